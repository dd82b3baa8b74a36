"""A local webhook for `dua run notifier`: it times each post's arrival, for emit → webhook.

The notifier posts one Slack-compatible message per group of violations (one rule, one
service); its sample lines name the events, the first one being the violation that opened
the group. A post's latency is its arrival (wall clock) minus that event's `occurred_at`
(stamped by the SDK at emit, looked up in ClickHouse once the run has landed): how long after
the access the webhook heard of it. The first post of each rule and service is the alert
(later ones within the notifier's window are the rest of a burst, grouped by design).
"""

from __future__ import annotations

import json
import re
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Final, NamedTuple

FIRST_EVENT: Final = re.compile(r"event `([^`]+)`")
HEADLINE: Final = re.compile(r"\[([A-Z]+)\] (\S+) in (\S+):")


class Post(NamedTuple):
    """One post as received: arrival (wall clock, s), severity, rule/service, first event."""

    arrived: float
    severity: str
    key: str
    event: str


class WebhookReceiver:
    """An HTTP server on 127.0.0.1 that answers 200 and records (arrival, severity, event)."""

    def __init__(self) -> None:
        self.posts: list[Post] = []
        lock = threading.Lock()
        posts = self.posts

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                arrived = time.time()
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                self.send_response(200)
                self.end_headers()
                self.wfile.write(b"ok")
                with lock:
                    posts.append(_post(arrived, body))

            def log_message(self, *_: Any) -> None:
                return

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}/hook"

    def __enter__(self) -> WebhookReceiver:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._server.shutdown()
        self._server.server_close()


def _post(arrived: float, body: bytes) -> Post:
    """What a notifier post says: severity, rule and service, and its first event's id."""
    try:
        message = json.loads(body)
    except ValueError:
        return Post(arrived, "", "", "")
    headline = HEADLINE.search(str(message.get("text", "")))
    event = FIRST_EVENT.search(json.dumps(message.get("blocks", [])))
    severity, key = "", ""
    if headline:
        severity, key = headline.group(1).lower(), f"{headline.group(2)}/{headline.group(3)}"
    return Post(arrived, severity, key, event.group(1) if event else "")


def latencies_ms(
    posts: list[Post], occurred_ms: dict[str, int], severity: str, *, first_only: bool = False
) -> list[float]:
    """Arrival minus the first event's occurred_at, per post of `severity` (with `first_only`,
    only each rule and service's first post: the alert), sorted."""
    seen: set[str] = set()
    out: list[float] = []
    for post in sorted(posts):
        if post.severity != severity or post.event not in occurred_ms:
            continue
        if first_only and post.key in seen:
            continue
        seen.add(post.key)
        out.append(post.arrived * 1000 - occurred_ms[post.event])
    return sorted(out)


def percentile(values: list[float], q: float) -> float | None:
    """The nearest-rank percentile of sorted `values` (None when empty)."""
    if not values:
        return None
    rank = max(1, round(q * len(values) + 0.5 - 1e-9))
    return values[min(rank, len(values)) - 1]
