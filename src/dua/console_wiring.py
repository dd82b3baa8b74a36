"""The console wired to the application: its reader, database, subject key, policy, webhook.

`dua_compliance.console` knows none of the application's settings; this module builds its
`ConsoleConfig` from them (and is what `dua console` and `dua demo` start).
"""

from __future__ import annotations

import logging
import threading
from datetime import timedelta

from sqlalchemy import Engine
from starlette.applications import Starlette

from dua.records_wiring import anomaly_config, drift_windows
from dua.settings import Settings
from dua_compliance import Reader
from dua_compliance.console import (
    Announce,
    ConsoleConfig,
    Issue,
    RecordsInputs,
    build_app,
    open_engine,
)
from dua_policy import load_policy
from dua_producer import pseudonymize
from dua_schemas import DuaError
from dua_stream.notifier import WebhookPoster

log = logging.getLogger("dua.console")


def console_config(settings: Settings) -> ConsoleConfig:
    """The console's values from the settings."""
    key = settings.subject_key
    policy = load_policy(settings.policy)
    rule_texts = {rule.id: rule.description or rule.message for rule in policy.rules}

    def subject_pseudonym(raw_id: str) -> str:
        assert key is not None  # only handed over when a key is set
        return pseudonymize(raw_id, key.get_secret_value())

    return ConsoleConfig(
        pseudonymize=None if key is None else subject_pseudonym,
        rule_texts=rule_texts,
        announce=_announcer(settings),
        secure_cookies=settings.console_secure_cookies,
        trusted_user_header=settings.console_trusted_user_header,
        session_ttl=timedelta(hours=settings.console_session_hours),
        records=RecordsInputs(policy, drift_windows(settings), anomaly_config(settings)),
    )


def console_engine(settings: Settings) -> Engine:
    settings.state_dir.mkdir(parents=True, exist_ok=True)
    return open_engine(settings.effective_console_database_url)


def console_app(settings: Settings, reader: Reader, engine: Engine) -> Starlette:
    """The console application on `reader` and `engine`."""
    return build_app(reader, engine, console_config(settings))


def _announcer(settings: Settings) -> Announce:
    """Regressions go to the notifier's webhook, from a thread so no page waits for it."""
    if settings.notifier_webhook_url is None:
        return lambda _issue: None
    poster = WebhookPoster(
        settings.notifier_webhook_url.get_secret_value(), timeout_s=settings.notifier_timeout_s
    )

    def announce(issue: Issue) -> None:
        text = (
            f"Regressed: {issue.rule} ({issue.severity}) in {issue.service}, purpose "
            f"{issue.purpose or '(none)'}, destination {issue.destination_kind}: it was resolved "
            f"and recurred at {issue.last_seen:%Y-%m-%d %H:%M:%S} UTC "
            f"({issue.violations} violations)."
        )

        def send() -> None:
            try:
                poster.post({"text": text})
            except DuaError as exc:
                log.warning("console: the regression of %s was not announced: %s", issue.rule, exc)

        threading.Thread(target=send, name="console-announce", daemon=True).start()

    return announce
