"""`make bench`: every benchmark in one run, against one broker, printed as one table.

Run: `.venv/bin/python -m bench [--quick] [--rate R] [--json PATH]`. Progress goes to stderr,
the table to stdout. The sink runs beside one bulk insert of the same rows (`bench/sink.py`).
The pipeline runs once at 300 events/s (latency at a demo's rate), at the offered rate
(`--rate`) at each size, then once more with 100k events offered faster than it can go, to
measure its capacity; the notifier runs beside it, posting to a local webhook that times
its posts. The latency rows put each p99 beside its target. `--quick`:
smaller classify and SDK runs, pipeline at 10k and 100k events only (the full run adds 1M,
which takes about six minutes at 3,000/s).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import Any

from bench import classify, pipeline_e2e, sdk, sdk_languages, sink
from bench.pipeline_processor import kafka
from bench.table import Row, render

FULL_SIZES = (10_000, 100_000, 1_000_000)
QUICK_SIZES = (10_000, 100_000)
SATURATING_RATE = 20_000.0  # above what the pipeline sustains here: measures its capacity
SATURATED_EVENTS = 100_000
# Emit → queryable at a demo's rate (`make demo` offers 300/s): waits, not work, show here.
LOW_RATE_RUN = (6_000, 300.0)
# The latency targets (p99, ms): emit → queryable by offered rate; emit → webhook.
QUERYABLE_TARGET_MS = {300.0: 1_000.0, 3_000.0: 1_500.0}
WEBHOOK_TARGET_MS = 1_000.0
PEER = "ClickHouse Kafka engine + MV (JSONEachRow; 3 of 13 rules)"


def _progress(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


def rows(figures: dict[str, Any]) -> list[Row]:
    """The table's rows from the figures of one run."""
    engine, emit = figures["classify"], figures["sdk"]
    out = [
        Row(
            f"policy engine classify ({engine['events']:,} events)",
            engine["engine_classify_per_s"],
            "ev/s",
            "Avro decode + copy of the same events",
            engine["baseline_decode_copy_per_s"],
        ),
        Row(
            f"SDK emit, total until flushed (one core, {emit['events']:,} events)",
            emit["sdk_us_per_event"],
            "µs/ev",
            "raw confluent-kafka produce, same bytes",
            emit["raw_us_per_event"],
        ),
    ]
    if "sink" in figures:
        written = figures["sink"]
        out.append(
            Row(
                f"sink, {written['rows']:,} tagged events into chDB",
                written["sink_rows_per_s"],
                "rows/s",
                "one bulk insert of the same rows",
                written["bulk_rows_per_s"],
            )
        )
    out.extend(sdk_languages.rows(figures))
    for e2e in figures["pipeline"]:
        name = f"pipeline e2e {e2e['events']:,} ev @ {e2e['offered_per_s']:,.0f}/s offered"
        latency = f"p50 {e2e['latency_p50_ms']:,.0f} ms, p99 {e2e['latency_p99_ms']:,.0f} ms"
        out.append(
            Row(
                name,
                e2e["pipeline_per_s"],
                "ev/s",
                "decode-only consumer (ceiling)",
                e2e["ceiling_per_s"],
                latency,
            )
        )
        out.append(Row(name, e2e["pipeline_per_s"], "ev/s", PEER, e2e["peer_per_s"], latency))
    return out + latency_rows(figures["pipeline"])


def latency_rows(pipeline: list[dict[str, Any]]) -> list[Row]:
    """p99 emit → queryable at the rates with a target, and emit → webhook for critical
    violations (each rule and service's first post: the alert; the rest of a burst is
    grouped by design), each beside its target (ratio above 1: the target is missed)."""
    out: list[Row] = []
    for e2e in pipeline:
        rate, events = e2e["offered_per_s"], e2e["events"]
        target = QUERYABLE_TARGET_MS.get(rate)
        if target is not None:
            out.append(
                Row(
                    f"emit → queryable p99, {events:,} ev @ {rate:,.0f}/s",
                    e2e["latency_p99_ms"],
                    "ms",
                    "target",
                    target,
                    f"p50 {e2e['latency_p50_ms']:,.0f} ms",
                )
            )
        p99 = e2e.get("webhook_alert_p99_ms")
        if target is not None and p99 is not None and rate >= 3_000:
            out.append(
                Row(
                    f"emit → webhook p99, critical (alert), {events:,} ev @ {rate:,.0f}/s",
                    p99,
                    "ms",
                    "target",
                    WEBHOOK_TARGET_MS,
                    f"p50 {e2e['webhook_alert_p50_ms']:,.0f} ms, "
                    f"{e2e['webhook_alerts']} rule/service alerts",
                )
            )
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="10k and 100k pipeline runs only")
    parser.add_argument("--rate", type=float, default=3_000.0, help="offered events/s")
    parser.add_argument("--json", type=Path, help="also write every figure here")
    args = parser.parse_args()
    sizes = QUICK_SIZES if args.quick else FULL_SIZES
    figures: dict[str, Any] = {}
    _progress("bench: policy engine")
    figures["classify"] = classify.run(20_000 if args.quick else 100_000, 3)
    with kafka() as bootstrap:
        # sdk.run and its peers read the broker from here; one broker for the whole run.
        os.environ["DUA_KAFKA_BOOTSTRAP"] = bootstrap
        _progress("bench: SDK emit vs raw produce")
        figures["sdk"] = sdk.run(20_000 if args.quick else 100_000, 2 if args.quick else 3)
        _progress("bench: sink vs one bulk insert of the same rows")
        figures["sink"] = sink.run_in_child(50_000)
        for language in sdk_languages.LANGUAGES:
            _progress(f"bench: {language.name} SDK emit vs {language.versus}")
            events = 20_000 if args.quick else 50_000
            figures[language.key] = sdk_languages.run(language, bootstrap, events)
        runs = [LOW_RATE_RUN, *((n, args.rate) for n in sizes)]
        runs.append((SATURATED_EVENTS, SATURATING_RATE))
        # The notifier (and its webhook timing) beside every run but the capacity one, whose
        # figure stays comparable with earlier runs: five processes on two cores, not six.
        figures["pipeline"] = [
            pipeline_e2e.run(bootstrap, n, rate, _progress, notifier=rate < SATURATING_RATE)
            for n, rate in runs
        ]
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2))
    print(render(rows(figures)))


if __name__ == "__main__":
    main()
