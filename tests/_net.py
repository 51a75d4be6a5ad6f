"""Counting the connections a command attempts, for the tests of a dead network.

Such a test used to time the command ("under 15 s": no retry loop with back-off), which fails on a busy
machine. What the time stood for is the number of attempts: one per file at most, never retried. Those are
counted at `socket.create_connection` (where httpx's and huggingface_hub's clients open every TCP
connection), so a refused connection counts too.
"""

from __future__ import annotations

import socket

COUNTING_MAIN = """\
import atexit, os, socket, sys
_connect, _attempts = socket.create_connection, []
def _counted(address, *args, **kwargs):
    _attempts.append(address)
    return _connect(address, *args, **kwargs)
socket.create_connection = _counted
atexit.register(lambda: open(os.environ["LOWLIGHT_TEST_CONNECTIONS"], "w").write(str(len(_attempts))))
sys.argv[0] = "lowlight"
from lowlight_cli.cli.app import main
main()
"""
"""`python -c COUNTING_MAIN ARGS...` is `lowlight ARGS...` that writes the number of TCP connections it
attempted to the file named by $LOWLIGHT_TEST_CONNECTIONS when it exits."""


def closed_port() -> int:
    """A port on 127.0.0.1 that nothing listens on: connections to it are refused at once."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Attempts:
    """TCP connections attempted in this process (to `port` only, when given), from `install` on."""

    def __init__(self, monkeypatch, port: int | None = None) -> None:
        self.addresses: list[tuple] = []
        connect = socket.create_connection

        def counted(address, *args, **kwargs):
            if port is None or address[1] == port:
                self.addresses.append(address)
            return connect(address, *args, **kwargs)

        monkeypatch.setattr(socket, "create_connection", counted)

    def __len__(self) -> int:
        return len(self.addresses)
