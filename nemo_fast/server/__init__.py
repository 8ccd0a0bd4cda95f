"""The nemo_fast server (`nemo-fast serve`, `pip install "nemo_fast[server]"`): HTTP on aiohttp, which serves
HTTP and WebSocket from one maintained library with no separate ASGI server."""

from nemo_fast.server.app import ServerConfig, create_app, serve

__all__ = ["ServerConfig", "create_app", "serve"]
