"""The native peer: ClickHouse's own Kafka table engine (in chDB) tagging the same events in SQL.

Run: `.venv/bin/python -m bench.clickhouse_kafka_engine --bootstrap HOST:PORT --topic T --events N`
(the topic must already hold N events as JSONEachRow), or call `measure(...)` in a process that
has not opened chDB yet (one chDB data directory per process), or `run_in_child(...)`.

What the peer reads: JSONEachRow of the very events the SDK sent (decoded from the raw topic and
re-produced), because ClickHouse's Avro formats read neither the single-object `C3 01` framing
nor, without a schema registry, the Confluent framing. What it computes (bench/sql/peer_view.sql)
is a subset of the processor's work: purpose category, element categories from the default
policy's catalog, and three stateless rules. Timed from the moment the Kafka table and its
materialized view exist to the N-th row queryable.
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterable, Mapping
from pathlib import Path
from string import Template
from typing import Any, Final

from confluent_kafka import Producer

from dua_policy import load_policy
from dua_schemas import to_json

SQL_DIR: Final = Path(__file__).resolve().parent / "sql"
TIMEOUT_S: Final = 900.0
CODE: Final = re.compile(r"^[a-z0-9_.]+$")  # catalog codes are inlined into SQL: keep them plain


def _sql(name: str, **values: str) -> str:
    return Template((SQL_DIR / f"{name}.sql").read_text()).substitute(values)


def _array(codes: Iterable[str]) -> str:
    items = list(codes)
    for code in items:
        if not CODE.match(code):
            raise ValueError(f"catalog code {code!r} is not plain enough to inline into SQL")
    return "[" + ", ".join(f"'{code}'" for code in items) + "]"


def catalog_arrays() -> dict[str, str]:
    """The default policy's element catalog and purpose codes as SQL array literals."""
    policy = load_policy()
    return {
        "element_codes": _array(e.code for e in policy.elements),
        "element_categories": _array(e.category for e in policy.elements),
        "purpose_codes": _array(p.code for p in policy.purposes),
    }


def produce_json(bootstrap: str, topic: str, records: Iterable[Mapping[str, Any]]) -> int:
    """Produce each record as one JSONEachRow message; returns how many."""
    producer = Producer(
        {"bootstrap.servers": bootstrap, "linger.ms": 20, "compression.type": "lz4"}
    )
    count = 0
    for record in records:
        payload = json.dumps(to_json(record), separators=(",", ":")).encode()
        while True:
            try:
                producer.produce(topic, payload)
                break
            except BufferError:
                producer.poll(0.05)
        count += 1
    if producer.flush(120) != 0:
        raise RuntimeError("could not produce the peer's JSON events")
    return count


def _create_queue(connection: Any, statement: str) -> None:
    """Create the Kafka table. chDB 4.4 answers "Shutdown was called" though the table exists
    and streams into its views (checked): accept that answer only if the table is there."""
    try:
        connection.query(statement)
    except Exception as error:
        if "Shutdown was called" not in str(error):
            raise
        exists = connection.query(
            "SELECT count() FROM system.tables"
            " WHERE database = 'bench_peer' AND name = 'raw_queue'",
            "CSV",
        )
        if str(exists).strip() != "1":
            raise


def measure(bootstrap: str, topic: str, n: int, data_dir: Path) -> dict[str, Any]:
    """Tag the topic's `n` events with the Kafka engine; returns events/s and what was found."""
    import chdb  # noqa: PLC0415 - chDB starts an embedded server: only in the process that measures

    connection = chdb.connect(str(data_dir))  # type: ignore[no-untyped-call]
    try:
        for name in ("peer_database", "peer_tagged"):
            connection.query(_sql(name))
        queue = _sql(
            "peer_queue", bootstrap=bootstrap, topic=topic, group=f"peer-{uuid.uuid4().hex[:8]}"
        )
        created = time.perf_counter()
        _create_queue(connection, queue)
        connection.query(_sql("peer_view", **catalog_arrays()))
        # Timed from the first landed row, as the ceiling is from its first message: the
        # consumer group's join is start-up, not work.
        deadline = time.monotonic() + TIMEOUT_S
        started, first, landed = 0.0, 0, 0
        while landed < n:
            if time.monotonic() > deadline:
                raise RuntimeError(f"the Kafka engine landed {landed} of {n} in {TIMEOUT_S:.0f} s")
            time.sleep(0.02)
            landed = int(str(connection.query(_sql("peer_count"), "CSV")).strip())
            if landed and not started:
                started, first = time.perf_counter(), landed
        finished = time.perf_counter()
        if first >= n:  # all in one block: only the time from creation (join included) is left
            started, first = created, 0
        elapsed = finished - started
        summary = str(connection.query(_sql("peer_summary"), "CSV")).strip().split(",")
        connection.query("DROP TABLE bench_peer.raw_queue")
    finally:
        connection.close()
    rows, ad_platform, undeclared, unclassified = (int(v) for v in summary)
    return {
        "events": n,
        "peer_rows": rows,
        "peer_per_s": round((n - first) / elapsed),
        "peer_timed_from": "first block" if started != created else "create (join included)",
        "peer_s": round(elapsed, 3),
        "peer_violations": {
            "personal_data_to_ad_platform": ad_platform,
            "undeclared_purpose": undeclared,
            "unclassified_element": unclassified,
        },
    }


def run_in_child(bootstrap: str, topic: str, n: int) -> dict[str, Any]:
    """`measure` in a fresh Python process (its own chDB), returning its figures."""
    done = subprocess.run(
        [
            *(sys.executable, "-m", "bench.clickhouse_kafka_engine"),
            *("--bootstrap", bootstrap, "--topic", topic, "--events", str(n)),
        ],
        capture_output=True,
        text=True,
        check=False,
        cwd=Path(__file__).resolve().parent.parent,
        timeout=TIMEOUT_S + 120,
    )
    if done.returncode != 0:
        raise RuntimeError(f"the Kafka engine peer failed:\n{done.stderr[-2000:]}")
    figures: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--bootstrap", required=True)
    parser.add_argument("--topic", required=True)
    parser.add_argument("--events", type=int, required=True)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="dua-bench-peer-") as tmp:
        print(json.dumps(measure(args.bootstrap, args.topic, args.events, Path(tmp))))


if __name__ == "__main__":
    main()
