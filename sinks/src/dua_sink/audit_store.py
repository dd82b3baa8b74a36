"""Step `sink.write`: segments into ClickHouse, each table insert carrying the segment's token."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager

from clickhouse_connect.driver.exceptions import ClickHouseError

from dua_sink.batching import OffsetRange, Segment
from dua_sink.connection import ClickHouseClient
from dua_sink.errors import ClickHouseUnavailable
from dua_sink.sql_text import check_identifier, render, sql_resource
from dua_sink.tables import COLUMNS, SINK_BATCH_COLUMNS, SINK_BATCHES, TableName

# A redelivered range is dropped while its token is among the table's last N insert tokens;
# the migrations set that window (10000) far above the inserts of one outage.
TOKEN_SETTING = "insert_deduplication_token"  # noqa: S105 - a setting name, not a secret


class AuditStore:
    """Writes the sink's segments and its batch plan to one database."""

    __slots__ = ("_client", "_database", "_group", "_planned_sql")

    def __init__(self, client: ClickHouseClient, database: str, group: str) -> None:
        self._client = client
        self._database = check_identifier(database)
        self._group = group
        self._planned_sql = render(sql_resource("sql", "planned_batches.sql"), database=database)

    @property
    def group(self) -> str:
        return self._group

    def planned_ranges(self, topic: str, partition: int, from_offset: int) -> list[OffsetRange]:
        """Ranges an earlier run planned for this partition at or after `from_offset`."""
        parameters = {
            "group": self._group,
            "topic": topic,
            "partition": partition,
            "from_offset": from_offset,
        }
        with _unavailable("read the batch plan"):
            result = self._client.query(self._planned_sql, parameters)
        return [OffsetRange(int(row[0]), int(row[1])) for row in result.result_rows]

    def record_plan(self, segments: Sequence[Segment]) -> None:
        """Record new segments' ranges before they are written (see `batching`)."""
        if not segments:
            return
        rows = [
            [self._group, s.topic, s.partition, s.first_offset, s.last_offset, s.messages, s.digest]
            for s in segments
        ]
        with _unavailable("record the batch plan"):
            self._client.insert(
                f"{self._database}.{SINK_BATCHES}", rows, column_names=SINK_BATCH_COLUMNS
            )

    def write(self, segment: Segment) -> dict[TableName, int]:
        """Insert a segment's rows, one insert per table; return rows per table.

        Rows built natively (`segment.blocks`) go as one Native block, with the same token."""
        token = segment.token(self._group)
        written: dict[TableName, int] = {}
        for table, rows in segment.rows.items():
            with _unavailable(f"insert into {table}", table):
                self._client.insert(
                    f"{self._database}.{table}",
                    rows,
                    column_names=COLUMNS[table],
                    settings={TOKEN_SETTING: token},
                )
            written[table] = len(rows)
        for table, block in segment.blocks.items():
            with _unavailable(f"insert into {table}", table):
                self._client.raw_insert(
                    f"{self._database}.{table}",
                    column_names=COLUMNS[table],
                    insert_block=block.data,
                    settings={TOKEN_SETTING: token},
                    fmt="Native",
                )
            written[table] = written.get(table, 0) + block.rows
        return written


@contextmanager
def _unavailable(what: str, table: str | None = None) -> Iterator[None]:
    """Any client failure becomes `ClickHouseUnavailable`: the sink's cue to back off."""
    try:
        yield
    except (ClickHouseError, OSError) as exc:
        text = str(exc).strip()
        first = text.splitlines()[0] if text else type(exc).__name__
        raise ClickHouseUnavailable(f"could not {what}: {first}", table) from exc
