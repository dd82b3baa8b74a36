"""Free TCP ports for a broker started on port 0."""

from __future__ import annotations

import socket
from contextlib import ExitStack


def free_ports(count: int, host: str = "127.0.0.1") -> list[int]:
    """Return `count` distinct ports that nothing listens on right now.

    Every socket stays bound until all are chosen, so the ports differ from each other;
    another process may still take one before the broker binds it (a small, accepted race).
    """
    with ExitStack() as stack:
        ports = []
        for _ in range(count):
            sock = stack.enter_context(socket.socket(socket.AF_INET, socket.SOCK_STREAM))
            sock.bind((host, 0))
            ports.append(int(sock.getsockname()[1]))
        return ports


def port_in_use(host: str, port: int) -> bool:
    """Whether binding `host:port` fails because something holds it."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        # Like the broker's own listener, so a port left in TIME_WAIT does not count as held.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return True
    return False
