"""The migrations as they run on a ClickHouse cluster (`DUA_CLICKHOUSE_CLUSTER`).

The `.sql` files are written for one server, and their checksums are in every database's
ledger, so the cluster form is a rendering of the same statements, never a second set of files:

- every CREATE, ALTER and DROP VIEW runs `ON CLUSTER <name>`, so one `dua db migrate` reaches
  every node (an ALTER of a table with a Distributed table alters that one too);
- `MergeTree` engines become `ReplicatedMergeTree` ones (the same parameters; the replica path
  is the server's `default_replica_path`, `/clickhouse/tables/{uuid}/{shard}`, kept in Keeper),
  and their insert deduplication window is the replicated one;
- the tables the sink writes and queries read get a `Distributed` table beside them,
  `<table>_all`, sharded so that an event and its violations land on the same shard, and the
  `*_unique` views read through it (FINAL runs on each shard, where an event's copies are).

Materialized views stay on the local tables: they fire on the inserts a node receives. A
backfill (`INSERT ... SELECT`, which has no `ON CLUSTER`) runs as written on the node `migrate`
is connected to, and copies that node's rows.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Final

from dua_sink.sql_text import check_identifier

# Table -> sharding key of its Distributed table. By event id for events and violations: a
# re-emitted event, and every violation of an event, go to the shard that holds the event.
DISTRIBUTED: Final = {
    "access_events": "cityHash64(event_id)",
    "violations": "cityHash64(event_id)",
    "rejected_events": "rand()",
    "appi_provisions": "cityHash64(event_id)",
}
DISTRIBUTED_SUFFIX: Final = "_all"

_CREATE = re.compile(
    r"^(CREATE (?:TABLE|VIEW|MATERIALIZED VIEW|DATABASE) IF NOT EXISTS [\w.]+|ALTER TABLE [\w.]+"
    r"|DROP VIEW IF EXISTS [\w.]+)"
)
_ENGINE = re.compile(r"\bENGINE = (Replacing|Summing|Aggregating)?MergeTree\b")
_WINDOW = re.compile(r"\bnon_replicated_deduplication_window\b")
_TABLE_NAME = re.compile(r"^CREATE TABLE IF NOT EXISTS (\w+)\.(\w+)")
_ALTERED = re.compile(r"^ALTER TABLE (\w+)\.(\w+) ON CLUSTER")
_ADDS_COLUMN = re.compile(r"\bADD COLUMN\b")


def on_cluster(statements: Iterable[str], cluster: str) -> list[str]:
    """The statements of a migration in their cluster form (see the module docstring)."""
    name = check_identifier(cluster)
    rendered: list[str] = []
    for statement in statements:
        text = _CREATE.sub(lambda m: f"{m.group(1)} ON CLUSTER {name}", statement, count=1)
        text = _ENGINE.sub(lambda m: f"ENGINE = Replicated{m.group(1) or ''}MergeTree", text)
        text = _WINDOW.sub("replicated_deduplication_window", text)
        if text.startswith("CREATE VIEW "):
            text = _through_distributed(text)
        rendered.append(text)
        table = _TABLE_NAME.match(text)
        if table is not None and table.group(2) in DISTRIBUTED:
            rendered.append(_distributed(name, table.group(1), table.group(2)))
        altered = _ALTERED.match(text)
        # A new column reaches the Distributed table too; projections and settings are the
        # local table's alone (a Distributed table has neither).
        if altered is not None and altered.group(2) in DISTRIBUTED and _ADDS_COLUMN.search(text):
            local = f"{altered.group(1)}.{altered.group(2)}"
            rendered.append(text.replace(local, local + DISTRIBUTED_SUFFIX, 1))
    return rendered


def _distributed(cluster: str, database: str, table: str) -> str:
    return (
        f"CREATE TABLE IF NOT EXISTS {database}.{table}{DISTRIBUTED_SUFFIX} ON CLUSTER {cluster}\n"
        f"AS {database}.{table}\n"
        f"ENGINE = Distributed({cluster}, {database}, {table}, {DISTRIBUTED[table]})"
    )


def _through_distributed(view: str) -> str:
    """A plain view reads the Distributed table instead of the node's local one."""
    for table in DISTRIBUTED:
        view = re.sub(rf"\bFROM (\w+)\.{table}\b", rf"FROM \1.{table}{DISTRIBUTED_SUFFIX}", view)
    return view
