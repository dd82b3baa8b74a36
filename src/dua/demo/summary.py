"""The demo's closing summary: plain aligned text a person reads in a terminal."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field

from dua.simulation import STATELESS_RULES


@dataclass(frozen=True)
class DemoSummary:
    emitted: int
    consents: int
    landed_events: int
    landed_rows: int
    rejected: int
    purpose_by_category: list[tuple[str, str, int]]
    violations: list[tuple[str, str, int]]
    planted: Counter[str]
    latency_p50_ms: float
    latency_p99_ms: float
    send_seconds: float
    report_path: str | None = None
    notes: list[str] = field(default_factory=list)
    # the data map's drift and the planted bulk export, planted and found (records_check)
    records: list[str] = field(default_factory=list)
    # accesses of the planted bulk export and its backfilled history, beside `emitted`
    bulk_export_emitted: int = 0
    # APPI provision records of the run: all, Art. 31 confirmed, Art. 31 without consent
    appi_records: tuple[int, int, int] | None = None

    @property
    def expected_events(self) -> int:
        """Every access sent: the traffic and the planted bulk export with its history."""
        return self.emitted + self.bulk_export_emitted

    @property
    def rules_found(self) -> set[str]:
        return {rule for rule, _, count in self.violations if count > 0}

    @property
    def missing_stateless_rules(self) -> set[str]:
        return set(STATELESS_RULES) - self.rules_found

    @property
    def complete(self) -> bool:
        """Everything emitted landed once, and every stateless rule was found."""
        return (
            self.landed_events == self.expected_events
            and self.landed_rows == self.landed_events
            and not self.missing_stateless_rules
        )


def _table(headers: tuple[str, ...], rows: Iterable[tuple[object, ...]]) -> list[str]:
    body = [tuple(f"{v:,}" if isinstance(v, int) else str(v) for v in row) for row in rows]
    widths = [
        max(len(h), *(len(r[i]) for r in body)) if body else len(h) for i, h in enumerate(headers)
    ]
    line = "  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True))
    out = [line, "  ".join("-" * w for w in widths)]
    for row in body:
        out.append(
            "  ".join(
                v.rjust(w) if v.replace(",", "").isdigit() else v.ljust(w)
                for v, w in zip(row, widths, strict=True)
            )
        )
    return out


def render(summary: DemoSummary) -> str:
    """The summary as text."""
    ok = "OK" if summary.landed_events == summary.expected_events else "MISMATCH"
    bulk = (
        f" (+{summary.bulk_export_emitted:,} of the planted bulk export and its history)"
        if summary.bulk_export_emitted
        else ""
    )
    lines = [
        "",
        "== dua demo: summary ==",
        f"emitted   {summary.emitted:,} access events{bulk} and {summary.consents:,} consent "
        f"changes in {summary.send_seconds:.1f} s",
        f"landed    {summary.landed_events:,} distinct events in ClickHouse "
        f"({summary.landed_rows:,} rows visible to queries) [{ok}]",
        f"rejected  {summary.rejected:,} inputs (DLQ / rejected_events)",
        f"latency   emit -> queryable p50 {summary.latency_p50_ms / 1000:.2f} s, "
        f"p99 {summary.latency_p99_ms / 1000:.2f} s",
        "",
        "Accesses by purpose category x data category (element accesses):",
        *_table(("purpose category", "data category", "accesses"), summary.purpose_by_category),
        "",
        "Violations by rule and severity (found / planted by the simulator):",
        *_table(
            ("rule", "severity", "found", "planted"),
            ((r, s, n, summary.planted.get(r, 0)) for r, s, n in summary.violations),
        ),
    ]
    missing = sorted(summary.missing_stateless_rules)
    found = len(STATELESS_RULES) - len(missing)
    counts: Counter[str] = Counter()
    for rule, _, count in summary.violations:
        counts[rule] += count
    differ = sorted(
        f"{rule} {counts[rule]}/{planted}"
        for rule, planted in summary.planted.items()
        if counts[rule] != planted
    )
    lines += [
        "",
        f"stateless rules found: {found} of {len(STATELESS_RULES)}"
        + (f" (missing: {', '.join(missing)})" if missing else " [OK]"),
        "found == planted for every planted rule"
        + (f": MISMATCH ({', '.join(differ)})" if differ else " [OK]"),
        *summary.notes,
    ]
    if summary.appi_records is not None:
        provided, confirmed, unconfirmed = summary.appi_records
        lines += [
            f"APPI provision records (Art. 29): {provided:,}; informative data to recipients "
            f"that link it (Art. 31): {confirmed:,} confirmed, {unconfirmed:,} without consent"
        ]
    if summary.records:
        lines += ["", "Data map and volume anomalies:", *summary.records]
    return "\n".join(lines)
