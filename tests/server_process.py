"""`nemo-fast serve` as the tests run it: a subprocess on loopback with a free port, its logs in a file (a pipe
nobody reads would fill and block the server)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path


@dataclass
class ServerProcess:
    process: subprocess.Popen
    address: str  # host:port
    log_path: Path

    def logs(self) -> list[dict]:
        """The structured log lines written so far."""
        return [json.loads(line) for line in self.log_path.read_text().splitlines() if line.startswith("{")]

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 30) -> int:
        if self.process.poll() is None:
            self.process.send_signal(sig)
        return self.process.wait(timeout=timeout)


def start_server(folder: Path, *args: str, env: dict | None = None) -> ServerProcess:
    log_path = folder / "server.log"
    with open(log_path, "w") as log:
        process = subprocess.Popen([sys.executable, "-m", "nemo_fast.cli", "serve", "--port", "0", *args],
                                   stdout=subprocess.PIPE, stderr=log, text=True, cwd=folder,
                                   env=dict(os.environ, **(env or {})))
    line = process.stdout.readline()
    if "listening on http://127.0.0.1:" not in line:
        process.kill()
        raise AssertionError(line + log_path.read_text())
    return ServerProcess(process, line.strip().rsplit("//", 1)[-1], log_path)
