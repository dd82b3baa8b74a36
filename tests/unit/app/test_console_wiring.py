"""The console's settings and what the application wires into it: database URL, subject
pseudonyms, the policy's rule texts, and regressions announced on the notifier's webhook."""

from __future__ import annotations

import json
import threading
import time
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import Any

from dua.console_wiring import console_config
from dua.settings import load_settings
from dua_compliance.console import Issue, State
from dua_compliance.console.store import Triage
from dua_producer import pseudonymize


def test_the_console_database_defaults_to_sqlite_in_the_state_dir(tmp_path: Path) -> None:
    """Unset (or empty) URL: SQLite in the state directory; a URL is used as given."""
    default = load_settings(state_dir=tmp_path, console_database_url="")
    assert default.effective_console_database_url == f"sqlite:///{tmp_path.resolve()}/console.db"
    url = "postgresql+psycopg://dua@127.0.0.1:5432/console"
    assert load_settings(console_database_url=url).effective_console_database_url == url
    assert load_settings().console_port == 8470


def test_the_config_pseudonymizes_as_the_sdk_and_knows_the_rules() -> None:
    """The subject key turns a raw id into the SDK's pseudonym; rule texts come from the policy."""
    config = console_config(load_settings(subject_key="k" * 32))
    assert config.pseudonymize is not None
    assert config.pseudonymize("member-1") == pseudonymize("member-1", "k" * 32)
    assert "payroll_data_misuse" in config.rule_texts
    assert console_config(load_settings(subject_key=None)).pseudonymize is None


class _Hook(BaseHTTPRequestHandler):
    received: list[dict[str, Any]] = []  # noqa: RUF012 - one test's recorder

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["content-length"]))
        _Hook.received.append(json.loads(body))
        self.send_response(200)
        self.end_headers()

    def log_message(self, *_args: Any) -> None:
        pass


def test_a_regression_is_posted_to_the_notifier_webhook() -> None:
    """The announcer posts one Slack-style message naming the rule, service and recurrence."""
    server = HTTPServer(("127.0.0.1", 0), _Hook)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{server.server_port}/hook"
        config = console_config(load_settings(notifier_webhook_url=url))
        moment = datetime(2026, 6, 1, 12, tzinfo=UTC)
        issue = Issue(
            "fp", "payroll_data_misuse", "rikunabi", "marketing.campaign_notice", "INTERNAL",
            "critical", 3, 2, moment, moment, 1, 0, Triage(State.REGRESSED),
        )  # fmt: skip
        config.announce(issue)
        deadline = time.monotonic() + 10
        while not _Hook.received and time.monotonic() < deadline:
            time.sleep(0.05)
        assert len(_Hook.received) == 1
        text = _Hook.received[0]["text"]
        assert "Regressed: payroll_data_misuse (critical) in rikunabi" in text
    finally:
        server.shutdown()


def test_the_demo_login_is_created_once(tmp_path: Path) -> None:
    """The demo's admin is created on first use; later runs print the same password."""
    from dua.demo.console_login import demo_login  # noqa: PLC0415
    from dua_compliance.console import Accounts, open_engine  # noqa: PLC0415

    settings = load_settings(state_dir=tmp_path)
    user, password = demo_login(settings)
    assert demo_login(settings) == (user, password)
    assert (tmp_path / "demo-console.password").stat().st_mode & 0o077 == 0
    engine = open_engine(settings.effective_console_database_url)
    try:
        found = Accounts(engine).login(user, password, now=datetime.now(UTC))
        assert found.can("subject")
    finally:
        engine.dispose()
