"""Subject pseudonyms: a keyed HMAC-SHA256 of the raw subject id, as 64 hex characters.

The same raw id and key give the same pseudonym in every service, so the pipeline can link
one subject's accesses (consent, re-identification) without ever seeing who it is. A
subject-access request computes the pseudonym with `pseudonymize` and searches for it.
"""

from __future__ import annotations

import hashlib
import hmac
import uuid
from typing import Final

from dua_schemas import InvalidEvent

CACHE_LIMIT: Final = 65_536  # distinct subjects remembered; a service sees the same users often


def _key_bytes(key: str | bytes) -> bytes:
    return key.encode() if isinstance(key, str) else key


def pseudonymize(raw_id: str, key: str | bytes) -> str:
    """The pseudonym the SDK puts in events for `raw_id` under `key` (UTF-8 when text)."""
    return hmac.new(_key_bytes(key), raw_id.encode(), hashlib.sha256).hexdigest()


def subject_text(subject: object, field: str = "subject") -> str:
    """A raw subject id as text: strings as they are, integers and UUIDs as `str()` gives them.

    Error messages never include the value: it is a raw subject id.
    """
    if isinstance(subject, str):
        if not subject.strip():
            raise InvalidEvent(field, "must not be empty")
        return subject
    if (isinstance(subject, int) and not isinstance(subject, bool)) or isinstance(
        subject, uuid.UUID
    ):
        return str(subject)
    raise InvalidEvent(field, f"must be a string or an integer, got {type(subject).__name__}")


class Pseudonymizer:
    """`pseudonymize` with the key fixed and recent results remembered (HMAC costs ~2 µs)."""

    __slots__ = ("_cache", "_key")

    def __init__(self, key: str | bytes) -> None:
        self._key = _key_bytes(key)
        self._cache: dict[str, str] = {}

    def __call__(self, subject: object) -> str:
        raw = subject if type(subject) is str else subject_text(subject)
        found = self._cache.get(raw)
        if found is not None:
            return found
        if not raw.strip():
            raise InvalidEvent("subject", "must not be empty")
        pseudonym = hmac.new(self._key, raw.encode(), hashlib.sha256).hexdigest()
        if len(self._cache) >= CACHE_LIMIT:
            self._cache.clear()  # cheaper than LRU bookkeeping on every call
        self._cache[raw] = pseudonym
        return pseudonym
