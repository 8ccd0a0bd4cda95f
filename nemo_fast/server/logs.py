"""Structured logs: one JSON object per line (time, level, logger, event and the event's fields), which log
shippers (Loki, Elasticsearch, CloudWatch) index without parsing rules. `--log-format text` keeps plain lines for
a terminal."""

from __future__ import annotations

import json
import logging
import sys
import time

LOGGER = "nemo_fast.server"


def event(logger: logging.Logger, name: str, level: int = logging.INFO, **fields) -> None:
    """Logs one event with its fields (kept apart from the message so each formatter can place them)."""
    logger.log(level, name, extra={"fields": fields})


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        line = {
            "time": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created)) + f".{int(record.msecs):03d}Z",
            "level": record.levelname.lower(),
            "logger": record.name,
            "event": record.getMessage(),
            **getattr(record, "fields", {}),
        }
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return json.dumps(line, ensure_ascii=False, default=str)


class TextFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        fields = " ".join(f"{k}={v}" for k, v in getattr(record, "fields", {}).items())
        line = f"{time.strftime('%H:%M:%S', time.localtime(record.created))} {record.levelname.lower()} " \
               f"{record.getMessage()}" + (f" {fields}" if fields else "")
        if record.exc_info:
            line += "\n" + self.formatException(record.exc_info)
        return line


def configure(log_format: str = "json", level: int = logging.INFO) -> None:
    """Sends the server's logs to standard error in the given format ("json" or "text")."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter() if log_format == "json" else TextFormatter())
    logger = logging.getLogger(LOGGER)
    logger.handlers[:] = [handler]
    logger.setLevel(level)
    logger.propagate = False
