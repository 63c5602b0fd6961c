"""rag.serve in a child process, ready when it answers: what benchmarks and end-to-end tests
drive over real HTTP, exactly as a user starts it (``python -m rag.serve ...``)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class ServerProcess:
    """``python -m rag.serve`` over ``corpus`` on a free loopback port, its state under
    ``data_dir`` (RAG_DATA_DIR) and its output in ``log``; the constructor returns once the
    page answers, or raises with the end of the log."""

    def __init__(self, corpus: Path, data_dir: Path, log: Path, *overrides: str,
                 env: dict | None = None, timeout_s: float = 180) -> None:
        self.corpus = corpus
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = log.open("w")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "rag.serve", f"serve.port={self.port}",
             f"corpus.path={corpus}", "progress=false", *overrides],
            cwd=Path(__file__).resolve().parents[2], stdout=self.log, stderr=subprocess.STDOUT,
            env={**os.environ, "RAG_DATA_DIR": str(data_dir), **(env or {})})
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"rag.serve exited ({self.proc.returncode}):\n"
                                   + log.read_text()[-3000:])
            try:
                httpx.get(self.url + "/", timeout=1)
                return
            except httpx.HTTPError:
                time.sleep(0.5)
        self.stop()
        raise TimeoutError(log.read_text()[-3000:])

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(timeout=30)
        self.log.close()
