"""The notifier's periodic look at the records: data map drift and volume anomalies.

The findings come from the audit tables, which the notifier does not read itself: the
application hands it a `FindingsSource` (a callable asking the compliance read side). Each
check sets the drift and anomaly gauges, and posts one message naming what was not announced
before; a source that fails is logged and tried again at the next check. Announced findings are
remembered for the life of the process, so a restart announces the current ones once more.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Final

from dua_schemas import DuaError
from dua_stream.notifier.metrics import NotifierMetrics
from dua_stream.notifier.webhook import Poster

log = logging.getLogger(__name__)

# Slack's limit on a message's text, and how many findings one message lists.
_TEXT_MAX: Final = 3000
_LIST_MAX: Final = 20


@dataclass(frozen=True, slots=True)
class AnomalyFinding:
    """One flagged series (codes only) and its line of text."""

    service: str
    purpose_category: str
    category: str
    line: str


@dataclass(frozen=True, slots=True)
class RecordsFindings:
    """What one check found: drift counts by kind, the drift lines to announce, anomalies."""

    drift_counts: Mapping[str, int]
    drift_lines: tuple[str, ...]
    anomalies: tuple[AnomalyFinding, ...]


FindingsSource = Callable[[], RecordsFindings]


class RecordsWatch:
    """Checks `source` every `interval_s` seconds; see the module docstring."""

    __slots__ = ("_announced", "_interval_s", "_metrics", "_poster", "_source")

    def __init__(
        self,
        source: FindingsSource,
        poster: Poster,
        metrics: NotifierMetrics,
        interval_s: float,
    ) -> None:
        self._source = source
        self._poster = poster
        self._metrics = metrics
        self._interval_s = interval_s
        self._announced: set[str] = set()

    def check(self) -> list[str]:
        """One check: gauges set, new findings posted; returns the lines posted."""
        findings = self._source()
        for kind, count in findings.drift_counts.items():
            self._metrics.datamap_drift.labels(kind=kind).set(count)
        self._metrics.volume_anomalies.clear()
        for anomaly in findings.anomalies:
            self._metrics.volume_anomalies.labels(
                service=anomaly.service,
                purpose_category=anomaly.purpose_category,
                category=anomaly.category,
            ).inc()
        lines = [f"Data map drift: {line}" for line in findings.drift_lines]
        lines += [f"Volume anomaly: {anomaly.line}" for anomaly in findings.anomalies]
        fresh = [line for line in lines if line not in self._announced]
        if fresh:
            self._poster.post({"text": render_findings(fresh)})
            self._announced.update(fresh)
        return fresh

    def run(self, stop: threading.Event) -> None:
        """Check every interval until `stop` is set; the first check after one interval."""
        while not stop.wait(self._interval_s):
            try:
                self.check()
            except DuaError as exc:
                log.warning("notifier: the records check failed, trying again later: %s", exc)
            except Exception:  # a failed check must not end the checks
                log.exception("notifier: the records check failed, trying again later")


def render_findings(lines: list[str]) -> str:
    """The message: a heading and one bullet per finding (the first 20)."""
    shown = [f"• {line}" for line in lines[:_LIST_MAX]]
    if len(lines) > _LIST_MAX:
        shown.append(f"… and {len(lines) - _LIST_MAX} more (`dua datamap`, `dua anomalies`)")
    text = "\n".join([f":mag: {len(lines)} new records findings", *shown])
    return text if len(text) <= _TEXT_MAX else text[: _TEXT_MAX - 1] + "…"
