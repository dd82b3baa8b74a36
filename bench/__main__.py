"""`make bench`: every benchmark in one run, against one broker, printed as one table.

Run: `.venv/bin/python -m bench [--quick] [--rate R] [--json PATH]`. Progress goes to stderr,
the table to stdout. The pipeline runs at the offered rate (`--rate`) at each size, then once
more with 100k events offered faster than it can go, to measure its capacity. `--quick`:
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

from bench import classify, pipeline_e2e, sdk
from bench.pipeline_processor import kafka
from bench.table import Row, render

FULL_SIZES = (10_000, 100_000, 1_000_000)
QUICK_SIZES = (10_000, 100_000)
SATURATING_RATE = 20_000.0  # above what the pipeline sustains here: measures its capacity
SATURATED_EVENTS = 100_000
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
        runs = [(n, args.rate) for n in sizes] + [(SATURATED_EVENTS, SATURATING_RATE)]
        figures["pipeline"] = [pipeline_e2e.run(bootstrap, n, rate, _progress) for n, rate in runs]
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2))
    print(render(rows(figures)))


if __name__ == "__main__":
    main()
