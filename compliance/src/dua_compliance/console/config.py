"""What the application hands the console when it starts it (built from `dua`'s settings)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import timedelta

from dua_compliance.console.issues import Announce, Issue
from dua_compliance.console.records_inputs import RecordsInputs


def _silent(_issue: Issue) -> None:
    """No webhook configured: regressions show in the inbox only."""


@dataclass(frozen=True, slots=True)
class ConsoleConfig:
    """The console's values; the reader and the database are passed beside it."""

    # raw subject id -> its pseudonym (DUA_SUBJECT_KEY); None: the subject view is off
    pseudonymize: Callable[[str], str] | None = None
    # rule id -> the rule's text in the policy in force
    rule_texts: Mapping[str, str] = field(default_factory=dict)
    announce: Announce = _silent
    # cookies only over HTTPS (behind TLS)
    secure_cookies: bool = False
    # trust this header of an authenticating reverse proxy as the user's name (SSO); None: off
    trusted_user_header: str | None = None
    session_ttl: timedelta = timedelta(hours=8)
    inbox_window: timedelta = timedelta(days=30)
    # the policy and windows of the data map and anomalies pages; None: those pages are off
    records: RecordsInputs | None = None
