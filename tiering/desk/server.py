"""Running the desk: in the foreground for ``tiering serve``, or on a background thread for browser tests and the
screenshot script (on a free port of 127.0.0.1, stopped when the ``with`` block ends)."""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import uvicorn

from tiering.desk.app import create_app


def run(store: Path, host: str, port: int) -> None:
    """Serve the desk over ``store`` until interrupted."""
    uvicorn.run(create_app(store, warm=True), host=host, port=port, log_level="warning")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def running(store: Path, port: int | None = None, warm: bool = False) -> Iterator[str]:
    """Serve the desk on a background thread; yield its base URL (``http://127.0.0.1:PORT``)."""
    port = port or free_port()
    server = uvicorn.Server(uvicorn.Config(create_app(store, warm), host="127.0.0.1", port=port,
                                           log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the review desk did not start")
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(30)
