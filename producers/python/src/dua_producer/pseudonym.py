"""Subject pseudonyms: a keyed HMAC-SHA256 of the raw subject id, as 64 hex characters.

The same raw id and key give the same pseudonym in every service and every SDK, so the
pipeline can link one subject's accesses (consent, re-identification) without ever seeing who
it is. A subject-access request computes the pseudonym with `pseudonymize` and searches for it.

The one normalization every SDK applies (`producers/conformance/README.md`, "pseudonym"):

* a string is hashed exactly as given, as UTF-8: no trimming, no case or Unicode folding.
  It is refused (`empty`) when it is empty or only Unicode White_Space
  (`dua_schemas.validation.WHITE_SPACE`: not U+FEFF, not U+001C..U+001F), and
  (`invalid_unicode`) when it holds a lone surrogate;
* an integer is hashed as its decimal text; it must fit in a signed 64-bit long
  (`out_of_range`), what every SDK language can hold;
* a UUID is hashed as its lower-case, hyphenated text;
* anything else is refused (`wrong_type`).

The key is text (hashed as its UTF-8 bytes) or bytes.
"""

from __future__ import annotations

import hashlib
import hmac
import uuid
from typing import Final

from dua_schemas import InvalidEvent
from dua_schemas.validation import is_blank

CACHE_LIMIT: Final = 65_536  # distinct subjects remembered; a service sees the same users often

_LONG_MIN: Final = -(2**63)
_LONG_MAX: Final = 2**63 - 1


def _key_bytes(key: str | bytes) -> bytes:
    return key.encode() if isinstance(key, str) else key


def _utf8(raw: str, field: str) -> bytes:
    if is_blank(raw):
        raise InvalidEvent(field, "must not be empty", "empty")
    try:
        return raw.encode()
    except UnicodeEncodeError:
        raise InvalidEvent(
            field, "holds a lone surrogate (not Unicode text)", "invalid_unicode"
        ) from None


def pseudonymize(raw_id: object, key: str | bytes) -> str:
    """The pseudonym the SDK puts in events for `raw_id` under `key` (UTF-8 when text)."""
    raw = subject_text(raw_id)
    return hmac.new(_key_bytes(key), _utf8(raw, "subject"), hashlib.sha256).hexdigest()


def subject_text(subject: object, field: str = "subject") -> str:
    """A raw subject id as the text that is hashed (see the module docstring).

    Error messages never include the value: it is a raw subject id.
    """
    if isinstance(subject, str):
        return subject
    if isinstance(subject, int) and not isinstance(subject, bool):
        if not _LONG_MIN <= subject <= _LONG_MAX:
            raise InvalidEvent(
                field, "is an integer outside the signed 64-bit range", "out_of_range"
            )
        return str(subject)
    if isinstance(subject, uuid.UUID):
        return str(subject)
    raise InvalidEvent(
        field, f"must be a string or an integer, got {type(subject).__name__}", "wrong_type"
    )


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
        pseudonym = hmac.new(self._key, _utf8(raw, "subject"), hashlib.sha256).hexdigest()
        if len(self._cache) >= CACHE_LIMIT:
            self._cache.clear()  # cheaper than LRU bookkeeping on every call
        self._cache[raw] = pseudonym
        return pseudonym
