"""The compliance console's response times over many access events in the embedded engine.

Run: `.venv/bin/python -m bench.console [--events N] [--requests R] [--screenshots DIR]`.

Generates N synthetic access events (default 10 million; one in eleven with a violation) straight
in a temporary chDB directory (`bench/sql/console_*.sql`), opens it through the read path as
`dua console` does, serves the console on a loopback port, and times R requests each of the
inbox, the explorer's first page (with its total count), a subject view and an event view: p50,
p95, max. Reused events (`--data`) are migrated first, as `dua db migrate` would.
With `--screenshots DIR` it then drives the system Chromium through every page and writes one
PNG per page there (`docs/console/`).
"""

from __future__ import annotations

import argparse
import json
import shutil
import socket
import statistics
import sys
import tempfile
import threading
import time
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from http.cookiejar import CookieJar
from pathlib import Path
from string import Template
from typing import Any

import uvicorn

from dua.read_path import open_directory
from dua.records_wiring import anomaly_config, drift_windows
from dua.settings import load_settings
from dua_compliance.console import (
    Accounts,
    ConsoleConfig,
    RecordsInputs,
    Role,
    build_app,
    open_engine,
)
from dua_policy import load_policy
from dua_producer import pseudonymize
from dua_sink import connect, migrate

DATABASE = "dua"
SUBJECT_KEY = "bench-console-subject-key"
RAW_SUBJECT = "member-00042"
PASSWORD = "bench-console-password"
SQL = Path(__file__).with_name("sql")


def _progress(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


def generate(directory: Path, events: int) -> float:
    """Write `events` synthetic events and their violations; seconds it took."""
    started = time.perf_counter()
    client = connect(f"chdb://{directory}")
    try:
        migrate(client, DATABASE, retention_days=3650)
        values = {
            "database": DATABASE,
            "events": str(int(events)),
            "subject": pseudonymize(RAW_SUBJECT, SUBJECT_KEY),
        }
        for name in ("console_events.sql", "console_violations.sql"):
            client.command(Template((SQL / name).read_text()).substitute(values))
    finally:
        client.close()
    return time.perf_counter() - started


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def serve(directory: Path, state: Path) -> Iterator[str]:
    """The console on the generated data, with an admin `bench`; yields its base URL."""
    reader = open_directory(str(directory), DATABASE)
    engine = open_engine(f"sqlite:///{state / 'console.db'}")
    Accounts(engine).add_user(
        "bench",
        PASSWORD,
        Role.ADMIN,
        subject_access=True,
        created_by="bench",
        now=datetime.now(UTC),
    )
    policy, settings = load_policy(), load_settings()
    config = ConsoleConfig(
        pseudonymize=lambda raw: pseudonymize(raw, SUBJECT_KEY),
        rule_texts={r.id: r.description or r.message for r in policy.rules},
        records=RecordsInputs(policy, drift_windows(settings), anomaly_config(settings)),
    )
    server = uvicorn.Server(
        uvicorn.Config(
            build_app(reader, engine, config),
            host="127.0.0.1",
            port=_free_port(),
            log_level="warning",
        )
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{server.config.port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        reader.close()
        engine.dispose()


def _timed(call: Callable[[], Any], requests: int) -> dict[str, float]:
    call()  # the first one warms the engine's caches
    times = []
    for _ in range(requests):
        started = time.perf_counter()
        call()
        times.append((time.perf_counter() - started) * 1000)
    times.sort()
    return {
        "p50_ms": statistics.median(times),
        "p95_ms": times[max(0, round(0.95 * len(times)) - 1)],
        "max_ms": times[-1],
    }


def upgrade(directory: Path) -> float:
    """Apply the migrations newer than the reused events; seconds it took."""
    started = time.perf_counter()
    client = connect(f"chdb://{directory}")
    try:
        migrate(client, DATABASE, retention_days=3650)
    finally:
        client.close()
    return time.perf_counter() - started


def measure(base: str, requests: int, events: int) -> dict[str, dict[str, float]]:
    """p50/p95/max of the inbox, the explorer's first page, the subject and event views."""
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(CookieJar()))
    login = urllib.parse.urlencode({"name": "bench", "password": PASSWORD}).encode()
    opener.open(f"{base}/login", data=login).read()
    csrf = json.loads(opener.open(f"{base}/api/session").read())["csrf"]
    subject = urllib.parse.urlencode({"raw_id": RAW_SUBJECT, "csrf": csrf}).encode()

    def get(path: str) -> Callable[[], Any]:
        return lambda: opener.open(f"{base}{path}").read()

    return {
        "inbox": _timed(get("/inbox"), requests),
        "explorer first page": _timed(get("/explorer"), requests),
        "explorer, filtered (service, 7d)": _timed(
            get("/explorer?service=jalan&since=7d"), requests
        ),
        "subject view": _timed(
            lambda: opener.open(f"{base}/subject", data=subject).read(), requests
        ),
        # An event in the middle of the generated ones, with a violation (every eleventh).
        "event view": _timed(get(f"/events/bench-{events // 2 // 11 * 11}"), requests),
    }


def screenshots(base: str, out: Path) -> list[Path]:
    """One PNG per page, taken with the system Chromium (nothing downloaded)."""
    from playwright.sync_api import sync_playwright  # noqa: PLC0415

    executable = shutil.which("chromium") or shutil.which("chromium-browser")
    if executable is None:
        raise SystemExit("chromium is not installed (apt-get install chromium)")
    out.mkdir(parents=True, exist_ok=True)
    taken = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, args=["--no-sandbox"])
        page = browser.new_page(base_url=base, viewport={"width": 1400, "height": 900})
        page.goto("/login")
        taken.append(_shot(page, out, "login"))
        page.get_by_label("User name").fill("bench")
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Sign in").click()
        page.wait_for_url("**/inbox")
        page.get_by_role("link", name="payroll_data_misuse").first.click()
        page.get_by_label("Action").select_option("acknowledge")
        page.get_by_label("Note").fill("looking into the campaign job")
        page.get_by_role("button", name="Apply").click()
        taken.append(_shot(page, out, "issue"))
        page.goto("/inbox?state=all")
        taken.append(_shot(page, out, "inbox"))
        page.goto("/explorer?service=rikunabi&since=7d&exclude_rule=bulk_access")
        taken.append(_shot(page, out, "explorer"))
        page.get_by_role("link", name="open").first.click()
        taken.append(_shot(page, out, "event"))
        page.goto("/subject")
        page.get_by_label("Subject id").fill(RAW_SUBJECT)
        page.get_by_role("button", name="Look up").click()
        taken.append(_shot(page, out, "subject"))
        page.goto("/overview?since=30d")
        taken.append(_shot(page, out, "overview"))
        page.goto("/datamap?since=30d")
        taken.append(_shot(page, out, "datamap"))
        page.goto("/anomalies?since=7d")
        taken.append(_shot(page, out, "anomalies"))
        page.goto("/users")
        taken.append(_shot(page, out, "users"))
        page.goto("/audit-log")
        taken.append(_shot(page, out, "audit-log"))
        browser.close()
    return taken


def _shot(page: Any, out: Path, name: str) -> Path:
    path = out / f"{name}.png"
    page.screenshot(path=str(path), full_page=False)
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=10_000_000)
    parser.add_argument("--requests", type=int, default=30)
    parser.add_argument("--screenshots", type=Path, default=None)
    parser.add_argument(
        "--data",
        type=Path,
        default=None,
        help="Keep the generated events in this directory, and reuse them when it exists "
        "(give the same --events: the event view opens an event in the middle).",
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="dua-bench-console-") as temp:
        state = Path(temp)
        directory = args.data.resolve() if args.data else state / "clickhouse"
        if directory.exists():
            _progress(f"console bench: reusing the events in {directory}")
            _progress(f"console bench: migrated in {upgrade(directory):.1f} s")
        else:
            _progress(f"console bench: generating {args.events:,} access events in chDB…")
            seconds = generate(directory, args.events)
            _progress(f"console bench: generated in {seconds:.1f} s; serving the console")
        with serve(directory, state) as base:
            figures = measure(base, args.requests, args.events)
            scale = f"({args.events:,} events, {args.requests} requests)"
            for page_name, f in figures.items():
                print(
                    f"{page_name:<34} p50 {f['p50_ms']:7.1f} ms  p95 {f['p95_ms']:7.1f} ms  "
                    f"max {f['max_ms']:7.1f} ms  {scale}"
                )
            if args.screenshots is not None:
                for path in screenshots(base, args.screenshots):
                    _progress(f"console bench: wrote {path}")


if __name__ == "__main__":
    main()
