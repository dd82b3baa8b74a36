"""Step `sink.write`: segments into ClickHouse, each insert carrying a deduplication token.

A flush's new segments, of every partition, are written together: one insert per table (one
part, one pass through the table's materialized views) instead of one per partition, each row
marked with the write's id (migration 007). Segments replayed after a crash (their ranges
planned by a write that may or may not have landed) are stored by `replay`, which asks each
table which of the write's marks it holds.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Final, Literal

from clickhouse_connect.driver.exceptions import ClickHouseError

from dua_sink.batching import Member, OffsetRange, Segment
from dua_sink.connection import ClickHouseClient
from dua_sink.errors import ClickHouseUnavailable
from dua_sink.native_block import with_constant_column
from dua_sink.routing import RowBlock
from dua_sink.row_mapping import Row
from dua_sink.sql_text import check_identifier, render, sql_resource
from dua_sink.tables import (
    COLUMNS,
    SINK_BATCH_COLUMNS,
    SINK_BATCHES,
    SINK_WRITE,
    TableName,
)

# A redelivered range is dropped while its token is among the table's last N insert tokens;
# the migrations set that window (10000) far above the inserts of one outage.
TOKEN_SETTING = "insert_deduplication_token"  # noqa: S105 - a setting name, not a secret
# A replayed insert whose rows landed in the table but not (all) in its materialized views'
# targets (the process died between the two) fills in what the views miss: each target
# deduplicates by the token on its own.
INSERT_SETTINGS: Final = {"deduplicate_blocks_in_dependent_materialized_views": 1}
# Rows of a table in a segment: built natively (one block) or in Python.
Kind = Literal["native", "rows"]
Part = RowBlock | list[Row]


class AuditStore:
    """Writes the sink's segments and its batch plan to one database."""

    __slots__ = ("_client", "_database", "_group", "_marks_sql", "_members_sql", "_planned_sql")

    def __init__(self, client: ClickHouseClient, database: str, group: str) -> None:
        self._client = client
        self._database = check_identifier(database)
        self._group = group
        self._planned_sql = render(sql_resource("sql", "planned_batches.sql"), database=database)
        self._members_sql = render(sql_resource("sql", "write_members.sql"), database=database)
        self._marks_sql = {
            table: (
                f"SELECT DISTINCT {SINK_WRITE} FROM {self._database}.{table} "  # noqa: S608
                f"WHERE startsWith({SINK_WRITE}, {{write:String}})"
            )
            for table in COLUMNS
        }

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
        return [
            OffsetRange(int(row[0]), int(row[1]), digest=str(row[3]), write_id=str(row[4]))
            for row in result.result_rows
        ]

    def write_members(self, write_ids: Sequence[str]) -> dict[str, frozenset[Member]]:
        """The ranges each of these writes was planned to store, of every partition."""
        if not write_ids:
            return {}
        parameters = {"group": self._group, "write_ids": list(write_ids)}
        with _unavailable("read the batch plan"):
            result = self._client.query(self._members_sql, parameters)
        members: dict[str, set[Member]] = {write_id: set() for write_id in write_ids}
        for write_id, topic, partition, first, last in result.result_rows:
            members[str(write_id)].add((str(topic), int(partition), int(first), int(last)))
        return {write_id: frozenset(ranges) for write_id, ranges in members.items()}

    def record_plan(self, segments: Sequence[Segment], write_id: str = "") -> None:
        """Record new segments' ranges, and the write that will store them, before it runs
        (see `batching`)."""
        if not segments:
            return
        rows = [
            [
                self._group,
                s.topic,
                s.partition,
                s.first_offset,
                s.last_offset,
                s.messages,
                s.digest,
                write_id,
            ]
            for s in segments
        ]
        with _unavailable("record the batch plan"):
            self._client.insert(
                f"{self._database}.{SINK_BATCHES}", rows, column_names=SINK_BATCH_COLUMNS
            )

    def write_together(self, segments: Sequence[Segment], write_id: str) -> None:
        """Insert the rows of `segments` (of any partitions) as one write: one insert per
        table and kind of rows (native blocks, Python rows), each row marked with the write
        (`_mark`). The same write again (a retry) carries the same tokens: what landed is
        dropped, and what its views missed is filled in."""
        for (table, kind), parts in _by_table(segments).items():
            self._insert(table, kind, [part for _, part in parts], _mark(write_id, kind))

    def replay(
        self, segments: Sequence[Segment], write_id: str, *, complete: bool
    ) -> list[dict[TableName, int]]:
        """Store what write `write_id` may not have stored of `segments`, its planned ranges
        read again; `complete`: they are all of its ranges. Returns the rows inserted, per
        segment and table.

        Each table is asked which of the write's marks it holds (one query). Where the write
        itself landed, it is sent again whole when `complete` (the same insert, the same
        tokens: nothing is duplicated, and views that missed it are filled in), else left as
        it is. Where it did not, the write is sent whole when `complete` and nothing of it was
        stored range by range before; otherwise each range not stored yet goes alone, with a
        mark and token of its own (its write's other ranges are another sink's now)."""
        inserted: list[dict[TableName, int]] = [{} for _ in segments]
        index = {id(segment): at for at, segment in enumerate(segments)}
        marks: dict[TableName, set[str]] = {}
        for (table, kind), parts in _by_table(segments).items():
            if table not in marks:
                marks[table] = self._marks(table, write_id)
            found = marks[table]
            whole = _mark(write_id, kind)
            alone = {_mark(write_id, kind, s): (s, part) for s, part in parts}
            if whole in found or (complete and not found & alone.keys()):
                if complete:
                    self._insert(table, kind, [p for _, p in parts], whole)
                    if whole not in found:
                        for segment, part in parts:
                            inserted[index[id(segment)]][table] = _rows(part)
                continue
            for mark, (segment, part) in alone.items():
                if mark not in found:
                    self._insert(table, kind, [part], mark)
                    inserted[index[id(segment)]][table] = _rows(part)
        return inserted

    def write(self, segment: Segment) -> dict[TableName, int]:
        """Insert one segment's rows alone, one insert per table and kind; return rows per
        table. A segment planned by a write of migration 007 or later is `replay`ed as a
        range of its write; older plans are deduplicated by the segment's own token."""
        if segment.write_id:
            return self.replay([segment], segment.write_id, complete=False)[0]
        token = segment.token(self._group)
        written: dict[TableName, int] = {}
        for (table, kind), parts in _by_table([segment]).items():
            ((_, part),) = parts
            self._insert(table, kind, [part], "", token=token)
            written[table] = written.get(table, 0) + _rows(part)
        return written

    def _marks(self, table: TableName, write_id: str) -> set[str]:
        """The marks of write `write_id` (its own, and its ranges' stored alone) in `table`."""
        with _unavailable(f"check what {table} holds of a replayed write", table):
            result = self._client.query(self._marks_sql[table], {"write": write_id})
        return {str(row[0]) for row in result.result_rows}

    def _insert(
        self,
        table: TableName,
        kind: Kind,
        parts: Sequence[Part],
        mark: str,
        *,
        token: str | None = None,
    ) -> None:
        """One insert of `parts` (all of `kind`) into `table`, every row marked `mark`; its
        token names the group, the mark and the table (or is `token`)."""
        token = token or f"{self._group}/{mark}/{table}"
        if kind == "native":
            blocks = [part for part in parts if isinstance(part, RowBlock)]
            data = b"".join(with_constant_column(b.data, SINK_WRITE, mark) for b in blocks)
            self._insert_block(table, data, token)
        else:
            rows = [row for part in parts if not isinstance(part, RowBlock) for row in part]
            self._insert_rows(table, rows, mark, token)

    def _insert_rows(self, table: TableName, rows: list[Row], write_id: str, token: str) -> None:
        with _unavailable(f"insert into {table}", table):
            self._client.insert(
                f"{self._database}.{table}",
                [(*row, write_id) for row in rows],
                column_names=(*COLUMNS[table], SINK_WRITE),
                settings={TOKEN_SETTING: token, **INSERT_SETTINGS},
            )

    def _insert_block(self, table: TableName, data: bytes, token: str) -> None:
        with _unavailable(f"insert into {table}", table):
            self._client.raw_insert(
                f"{self._database}.{table}",
                column_names=(*COLUMNS[table], SINK_WRITE),
                insert_block=data,
                settings={TOKEN_SETTING: token, **INSERT_SETTINGS},
                fmt="Native",
            )


def _by_table(
    segments: Sequence[Segment],
) -> dict[tuple[TableName, Kind], list[tuple[Segment, Part]]]:
    """The segments' rows by table and kind, each with its segment, in segment order."""
    by_table: dict[tuple[TableName, Kind], list[tuple[Segment, Part]]] = {}
    for segment in segments:
        for table, block in segment.blocks.items():
            by_table.setdefault((table, "native"), []).append((segment, block))
        for table, table_rows in segment.rows.items():
            if table_rows:
                by_table.setdefault((table, "rows"), []).append((segment, table_rows))
    return by_table


def _mark(write_id: str, kind: Kind, segment: Segment | None = None) -> str:
    """What `sink_write` holds for rows of a write (or of one of its ranges stored alone).

    A write's native blocks and Python rows of one table are two inserts: two marks, so that
    "the mark is there" still means "all of that insert is there"."""
    mark = write_id if kind == "native" else f"{write_id}+rows"
    if segment is None:
        return mark
    return f"{mark}/{segment.topic}/{segment.partition}/{segment.first_offset}"


def _rows(part: Part) -> int:
    return part.rows if isinstance(part, RowBlock) else len(part)


@contextmanager
def _unavailable(what: str, table: str | None = None) -> Iterator[None]:
    """Any client failure becomes `ClickHouseUnavailable`: the sink's cue to back off."""
    try:
        yield
    except (ClickHouseError, OSError) as exc:
        text = str(exc).strip()
        first = text.splitlines()[0] if text else type(exc).__name__
        raise ClickHouseUnavailable(f"could not {what}: {first}", table) from exc
