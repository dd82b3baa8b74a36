"""A poison corpus sent straight to the raw topic: each bad message is one DLQ record and one
`rejected_events` row, the valid ones around it land verbatim, and the pipeline keeps going."""

from __future__ import annotations

import copy
import io
import json
import random
import time
import uuid
from importlib import resources
from pathlib import Path
from typing import Any

import fastavro
import pytest

from dua_schemas.wire import SINGLE_OBJECT_MAGIC

from .pipeline_harness import running_pipeline
from .raw_messages import CODEC, access_event, produce, read_all

pytestmark = [pytest.mark.reliability, pytest.mark.integration]

HEADER = 10  # magic (2) + fingerprint (8)
# Strings that must land byte for byte: they are data, never SQL or markup.
VERBATIM = [
    "Ünïcödé ✓ 日本語のテキスト 🎌 \u200b zero-width",
    "'); DROP TABLE access_events; -- \" OR 1=1 /* {run:String} */",
]


def _with_unknown_enum_symbol(record: dict[str, Any]) -> bytes:
    """The event encoded with a writer schema whose Operation enum has one symbol more, under
    the real fingerprint: the reader finds an enum index it does not know."""
    path = resources.files("dua_schemas") / "avro" / "DataAccessEvent" / "v1.avsc"
    schema = json.loads(path.read_text())
    widened = copy.deepcopy(schema)
    for field in widened["fields"]:
        if field["name"] == "operation":
            field["type"]["symbols"].append("TRUNCATE_EVERYTHING")
    body = io.BytesIO()
    bad = dict(record, operation="TRUNCATE_EVERYTHING")
    fastavro.schemaless_writer(body, fastavro.parse_schema(widened), bad)
    fingerprint = CODEC.encode("DataAccessEvent", record)[2:HEADER]
    return SINGLE_OBJECT_MAGIC + fingerprint + body.getvalue()


def poison_corpus() -> dict[str, bytes]:
    """One of each kind of bad input, by name (the name is the Kafka key)."""
    good = CODEC.encode("DataAccessEvent", access_event())
    rng = random.Random(8)
    return {
        "random-bytes": b"\xff" + rng.randbytes(300),
        "truncated-avro": good[: len(good) // 2],
        "unknown-fingerprint": SINGLE_OBJECT_MAGIC + b"\x13" * 8 + good[HEADER:],
        "oversized": SINGLE_OBJECT_MAGIC + good[2:HEADER] + rng.randbytes(900_000),
        "invalid-enum": _with_unknown_enum_symbol(access_event()),
        "1000-elements": CODEC.encode(
            "DataAccessEvent",
            access_event(elements=[f"user.profile.field{i}" for i in range(1000)]),
        ),
    }


def test_poison_goes_to_the_dlq_and_valid_strings_land_verbatim(
    kafka_bootstrap: str, tmp_path: Path
) -> None:
    """Six poison messages give six DLQ records and six rejected rows; the two valid events
    with unicode and SQL-looking text land once each, unchanged; the pipeline stays up."""
    run_id = uuid.uuid4().hex[:12]
    with running_pipeline(kafka_bootstrap, tmp_path) as pipeline:
        raw = pipeline.settings.topic_raw
        poison = poison_corpus()
        valid = [
            access_event(trace_id=text, attributes={"sim_run": run_id, "note": text})
            for text in VERBATIM
        ]
        started = time.monotonic()
        messages = [(name.encode(), payload) for name, payload in poison.items()]
        messages += [(b"valid", CODEC.encode("DataAccessEvent", e)) for e in valid]
        produce(kafka_bootstrap, raw, messages)
        dlq = [
            CODEC.decode(m.value()).record
            for m in read_all(kafka_bootstrap, [pipeline.settings.topic_dlq])
        ]
        landed = pipeline.wait_landed(run_id, len(valid))
        rejected = 0
        deadline = time.monotonic() + 60
        while rejected < len(poison) and time.monotonic() < deadline:
            rejected = int(pipeline.query("rejected_from", topic=raw)[0][0])
            time.sleep(1.0)
        strings = pipeline.query("run_strings", run=run_id)
        # Resumed: traffic after the corpus still lands.
        after = pipeline.simulate(run_id + "-after", 100.0, 2.0)
        after_landed = pipeline.wait_landed(run_id + "-after", after.emitted)
        elapsed = time.monotonic() - started
        reasons = sorted((r["key"].decode(), r["reason"]) for r in dlq)
        print(
            f"reliability poison: emitted {len(messages)} poison {len(poison)} "
            f"landed {landed.events} duplicates {landed.rows - landed.events} "
            f"dlq {len(dlq)} rejected {rejected} reasons {reasons} "
            f"after {after_landed.events}/{after.emitted} in {elapsed:.1f} s"
        )
    assert {r["key"] for r in dlq} == {name.encode() for name in poison}
    assert len(dlq) == len(poison)
    assert all(len(r["payload_prefix"]) <= 1024 for r in dlq)
    assert rejected == len(poison)
    assert landed.events == len(valid)
    assert landed.rows == landed.events
    assert sorted((note, trace) for note, trace in strings) == sorted(
        (text, text) for text in VERBATIM
    )
    assert after_landed.events == after.emitted
