"""Issue 8: after traffic through the whole pipeline, no raw subject id and no element value is
anywhere: not in any topic (raw, consent, tagged, violations, DLQ, the processor's changelogs),
not in any ClickHouse table."""

from __future__ import annotations

import re
import uuid
from pathlib import Path

import pytest
from confluent_kafka.admin import AdminClient

from .pipeline_harness import running_pipeline
from .raw_messages import read_all

pytestmark = [pytest.mark.reliability, pytest.mark.integration]

RAW_SUBJECT = re.compile(rb"user-\d{5}")  # the simulator's and this test's raw ids
PROBE_SUBJECT = "user-99999"
SENTINEL = "sentinel-value-7f3a9c@leak.example"  # what the service "read"


def test_no_raw_subject_id_or_value_in_any_topic_or_table(
    kafka_bootstrap: str, tmp_path: Path
) -> None:
    """Simulated traffic plus an `@audited` read returning a sentinel value: neither a raw
    subject id nor the sentinel appears in any message (key, value, header) or table row."""
    run_id = uuid.uuid4().hex[:12]
    with running_pipeline(kafka_bootstrap, tmp_path) as pipeline:
        client = pipeline.client_factory()("leak-probe")
        try:

            @client.audited(
                elements=["user.contact.email"],
                purpose="service.inquiry_response",
                subject="user_id",
                attributes={"sim_run": run_id},
            )
            def load_email(user_id: str) -> str:
                return SENTINEL

            assert load_email(PROBE_SUBJECT) == SENTINEL
            client.flush()
        finally:
            client.close()
        result = pipeline.simulate(run_id, 150.0, 3.0)
        landed = pipeline.wait_landed(run_id, result.emitted + 1)
        assert landed.events == result.emitted + 1

        topics = sorted(
            name
            for name in AdminClient({"bootstrap.servers": kafka_bootstrap})
            .list_topics(timeout=10)
            .topics
            if pipeline.suffix in name
        )
        messages = read_all(kafka_bootstrap, topics)
        tables = [str(row[0]) for row in pipeline.query("table_names")]
        rows = {
            table: [str(r[0]) for r in pipeline.query("table_rows", table=table)]
            for table in tables
        }
    print(
        f"no-leak scan: emitted {result.emitted}+1, {len(topics)} topics, "
        f"{len(messages)} messages, {len(tables)} tables, {sum(len(r) for r in rows.values())} rows"
    )
    assert any("changelog" in name for name in topics), topics  # the processor's state is scanned
    assert len(messages) > result.emitted  # raw and tagged at least
    sentinel = SENTINEL.encode()
    for message in messages:
        blobs = [message.key() or b"", message.value() or b""]
        blobs += [value or b"" for _, value in message.headers() or []]
        for blob in blobs:
            assert not RAW_SUBJECT.search(blob), f"raw subject id in {message.topic()}"
            assert sentinel not in blob, f"element value in {message.topic()}"
    assert "access_events" in tables
    assert rows["access_events"], "the scan must have rows to look at"
    for table, texts in rows.items():
        for text in texts:
            assert not RAW_SUBJECT.search(text.encode()), f"raw subject id in table {table}"
            assert SENTINEL not in text, f"element value in table {table}"
