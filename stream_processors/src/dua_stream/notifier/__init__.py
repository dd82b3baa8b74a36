"""The violation notifier: posts active violations to a Slack-compatible webhook.

Pure parts (triage, grouping, rate limiting, offsets, rendering) take a clock and need no
Kafka; `ViolationConsumer` is the thin Kafka shell and `WebhookPoster` the HTTP one.
`RecordsWatch` posts data map drift and volume anomalies found by a source the application
provides (the notifier itself reads only Kafka).
"""

from dua_stream.notifier.consumer import ViolationConsumer
from dua_stream.notifier.dispatcher import Dispatcher, NotifierConfig
from dua_stream.notifier.errors import WebhookRejected, WebhookUnavailable
from dua_stream.notifier.grouping import Grouper, GroupKey, Position, ViolationGroup
from dua_stream.notifier.message import render, summary_line
from dua_stream.notifier.metrics import METRIC_NAMES, NotifierMetrics
from dua_stream.notifier.offsets import OffsetLedger
from dua_stream.notifier.ratelimit import MessageRateLimiter
from dua_stream.notifier.records_watch import (
    AnomalyFinding,
    FindingsSource,
    RecordsFindings,
    RecordsWatch,
    render_findings,
)
from dua_stream.notifier.triage import SEVERITY_RANK, triage
from dua_stream.notifier.webhook import Poster, RetryPolicy, WebhookPoster

__all__ = [
    "METRIC_NAMES",
    "SEVERITY_RANK",
    "AnomalyFinding",
    "Dispatcher",
    "FindingsSource",
    "GroupKey",
    "Grouper",
    "MessageRateLimiter",
    "NotifierConfig",
    "NotifierMetrics",
    "OffsetLedger",
    "Position",
    "Poster",
    "RecordsFindings",
    "RecordsWatch",
    "RetryPolicy",
    "ViolationConsumer",
    "ViolationGroup",
    "WebhookPoster",
    "WebhookRejected",
    "WebhookUnavailable",
    "render",
    "render_findings",
    "summary_line",
    "triage",
]
