"""deploy/clickhouse on a real ClickHouse server: the compliance user reads only, the sink's
user inserts only. Needs a Docker engine (testcontainers); skipped with the reason otherwise."""

from __future__ import annotations

import zlib
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import clickhouse_connect
import pytest

from dua_compliance import QueryError, run_saved
from dua_compliance.http_reader import HttpReader
from dua_schemas import WireCodec
from dua_sink import (
    AuditStore,
    PartitionBuffer,
    RecordRouter,
    SinkTopics,
    migrate,
    pending_migrations,
)
from dua_sink.migrations import migration_status
from dua_sink.row_mapping import Source
from dua_sink.sql_text import split_statements
from dua_sink.testing import tagged_event

pytestmark = [pytest.mark.integration, pytest.mark.docker]

DEPLOY = Path(__file__).resolve().parents[2] / "deploy" / "clickhouse"
IMAGE = "clickhouse/clickhouse-server:25.8"
PASSWORDS = {"DUA_CH_COMPLIANCE_PASSWORD": "compliance-pw", "DUA_CH_SINK_PASSWORD": "sink-pw"}


@pytest.fixture(scope="module")
def server() -> Iterator[dict[str, Any]]:
    """A ClickHouse server with deploy/clickhouse/users.d mounted, migrated by its admin."""
    try:
        import docker  # type: ignore[import-untyped]  # noqa: PLC0415

        docker.from_env().ping()
    except Exception as exc:  # any failure means the same: no engine to use
        pytest.skip(f"no Docker engine answers ({type(exc).__name__}); the grants test needs one")
    from testcontainers.community.clickhouse import ClickHouseContainer  # noqa: PLC0415

    container = ClickHouseContainer(IMAGE).with_volume_mapping(
        str(DEPLOY / "users.d" / "dua-users.xml"), "/etc/clickhouse-server/users.d/dua-users.xml"
    )
    container.with_env("CLICKHOUSE_DEFAULT_ACCESS_MANAGEMENT", "1")
    for name, value in PASSWORDS.items():
        container.with_env(name, value)
    with container:
        host = container.get_container_host_ip()
        port = int(container.get_exposed_port(8123))
        admin = clickhouse_connect.get_client(
            host=host, port=port, username=container.username, password=container.password
        )
        migrate(admin, "dua", retention_days=30)
        for statement in split_statements((DEPLOY / "access.sql").read_text(encoding="utf-8")):
            admin.command(statement)
        yield {"host": host, "port": port, "admin": admin}


def _client(server: dict[str, Any], user: str, password: str) -> Any:
    return clickhouse_connect.get_client(
        host=server["host"], port=server["port"], username=user, password=password
    )


def _segment(count: int, first: int = 0) -> Any:
    topics = SinkTopics("g.tagged", "g.violations", "g.dlq")
    codec, when = WireCodec(), datetime.now(UTC)
    router = RecordRouter(topics, codec)
    buffer = PartitionBuffer(topics.tagged, 0)
    buffer.plan = []
    for offset in range(first, first + count):
        payload = codec.encode("TaggedAccessEvent", tagged_event(occurred_at=when))
        buffer.add(
            offset,
            router.route(Source(topics.tagged, 0, offset, when), payload, None),
            zlib.crc32(payload),
        )
    (segment,) = buffer.cut(1000, due=True)
    return segment


def test_sink_user_inserts_but_cannot_read_or_drop(server: dict[str, Any]) -> None:
    """The writer stores segments (with tokens and its plan) and nothing else."""
    sink = _client(server, "dua_sink", PASSWORDS["DUA_CH_SINK_PASSWORD"])
    store = AuditStore(sink, "dua", "grants-test")
    segment = _segment(5)
    store.record_plan([segment])
    assert store.planned_ranges(segment.topic, 0, 0)
    store.write(segment)
    store.write(segment)  # a replay, deduplicated
    # a range written with a flush's others, then replayed: what landed is asked (through the
    # one column granted for it), and nothing is stored again
    later = replace(_segment(5, first=100), planned=True, write_id="w-1")
    store.write_together([later], "w-1")
    assert store.replay([later], "w-1", complete=False) == [{}]
    assert pending_migrations(sink, "dua") == []
    with pytest.raises(Exception, match=r"ACCESS_DENIED|Not enough privileges"):
        sink.query("SELECT subject_id FROM dua.access_events")
    with pytest.raises(Exception, match=r"ACCESS_DENIED|Not enough privileges"):
        sink.command("DROP TABLE dua.access_events")
    assert int(server["admin"].command("SELECT count() FROM dua.access_events")) == 10


def test_compliance_user_reads_but_cannot_write(server: dict[str, Any]) -> None:
    """Saved queries and `dua db status` work for the compliance user; writes are refused."""
    reader = HttpReader(
        f"http://{server['host']}:{server['port']}/",
        "dua",
        user="dua_compliance",
        password=PASSWORDS["DUA_CH_COMPLIANCE_PASSWORD"],
    )
    run_saved(reader, "purpose_category_matrix", datetime(2020, 1, 1, tzinfo=UTC))
    assert all(state.state == "applied" for state in migration_status(reader, "dua"))
    with pytest.raises(QueryError, match=r"READONLY|readonly|ACCESS_DENIED"):
        reader.query("INSERT INTO access_events (event_id) VALUES ('x')")
    with pytest.raises(QueryError, match=r"READONLY|readonly|ACCESS_DENIED"):
        reader.query("DROP TABLE access_events")


def test_sql_roles_grant_the_same(server: dict[str, Any]) -> None:
    """A user given dua_compliance_reader by SQL reads and cannot insert."""
    admin = server["admin"]
    admin.command("CREATE USER IF NOT EXISTS alice IDENTIFIED BY 'alice-pw'")
    admin.command("GRANT dua_compliance_reader TO alice")
    admin.command("SET DEFAULT ROLE dua_compliance_reader TO alice")
    alice = _client(server, "alice", "alice-pw")
    assert int(alice.command("SELECT count() FROM dua.access_events")) >= 0
    with pytest.raises(Exception, match=r"READONLY|readonly|ACCESS_DENIED|Not enough privileges"):
        alice.command("INSERT INTO dua.access_events (event_id) VALUES ('x')")
