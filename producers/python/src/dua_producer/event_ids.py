"""Event ids: random UUIDs (version 4) as text, made cheaply.

`str(uuid.uuid4())` costs ~4 µs here, a fifth of the emit budget; this draws random bytes in
blocks and formats them directly, giving the same distribution of valid v4 UUIDs.
"""

from __future__ import annotations

import os
import threading
from typing import Final

_BLOCK: Final = 256  # ids per draw from the OS


class EventIds:
    """A source of fresh v4 UUID strings; safe to share between threads."""

    __slots__ = ("_lock", "_pool")

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._pool: list[str] = []

    def __call__(self) -> str:
        try:
            return self._pool.pop()  # list.pop is atomic under the GIL
        except IndexError:
            with self._lock:
                if not self._pool:
                    self._pool = _draw(_BLOCK)
            return self()


def _draw(count: int) -> list[str]:
    raw = bytearray(os.urandom(16 * count))
    ids = []
    for start in range(0, 16 * count, 16):
        raw[start + 6] = (raw[start + 6] & 0x0F) | 0x40  # version 4
        raw[start + 8] = (raw[start + 8] & 0x3F) | 0x80  # RFC 4122 variant
        h = raw[start : start + 16].hex()
        ids.append(f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}")
    return ids
