"""The exception hierarchy shared by every dua component.

One root, `DuaError`, so a service can catch everything the audit trail raises in one place;
kinds are kept apart so callers can tell a bad event (their bug) from a transport problem
(retry) from a broken policy (fix the file).
"""

from __future__ import annotations


class DuaError(Exception):
    """Root of every error raised by data-usage-audit."""


class ConfigError(DuaError):
    """A setting is missing or has a value that cannot work."""


class InvalidEvent(DuaError):
    """An event breaks the contract; `field` names the offending field (dotted path).

    `code` is a stable error code shared by every SDK (`producers/conformance/README.md`
    lists them); `problem` says the same in words, for people.
    """

    def __init__(self, field: str, problem: str, code: str = "invalid") -> None:
        self.field = field
        self.problem = problem
        self.code = code
        super().__init__(f"{field}: {problem}")


class UndecodablePayload(DuaError):
    """Bytes that are not a message of any known schema.

    `reason` is a short stable code (used as a metric label and in the rejected_events
    table); the message says what was wrong in words.
    """

    def __init__(self, reason: str, detail: str) -> None:
        self.reason = reason
        self.detail = detail
        super().__init__(f"{reason}: {detail}")


class UnknownSchema(UndecodablePayload):
    """The payload names a schema (fingerprint or registry id) this reader does not know."""


class TransportError(DuaError):
    """Kafka, ClickHouse or a registry did not answer; the operation may be retried."""
