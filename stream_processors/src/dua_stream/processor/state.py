"""`TableState`: the engine's `RuleState` kept in Faust tables, with changelog records batched.

Two tables: `reid:<subject>` keys (re-identification windows) go to the `reidentification`
table, which expires entries; every other key (`consent:<subject>`, the subject's consent
history, `judged:<subject>`, accesses kept for a consent re-check, and `unconsented:<subject>`,
findings of consent-missing rules a late consent change may contradict) to the `consent` table.
Both are keyed by subject, like the raw and consent topics, so the state read while
processing partition P was written while processing partition P.

Writes go to the table's local store at once (later events of the same batch see them) and
are remembered as *changes*; `drain_changes()` turns them into changelog records, one per key
however often it changed, which the processor produces with the batch's outputs. Only when
all of those are confirmed are the input offsets acknowledged, so state survives a crash as
surely as the outputs do.
"""

from __future__ import annotations

import json
from collections.abc import Collection, MutableMapping
from typing import Any, Final, NamedTuple

import orjson

from dua_policy.state import REIDENTIFICATION_PREFIX
from dua_stream.processor.recheck import ENTRIES, JUDGED_PREFIX, PARTITION
from dua_stream.processor.unconsented import UNCONSENTED_PREFIX

CONSENT_TABLE: Final = "consent"
REIDENTIFICATION_TABLE: Final = "reidentification"
TABLES: Final = (CONSENT_TABLE, REIDENTIFICATION_TABLE)
# keys of the consent table in the `judged:` value form, expired past the consent retention
KEPT_PREFIXES: Final = (JUDGED_PREFIX, UNCONSENTED_PREFIX)


def changelog_topics(app_id: str) -> dict[str, str]:
    """Table name -> its changelog topic, named as Faust names it (`<app id>-<table>-changelog`),
    for checks made before Faust is loaded."""
    return {table: f"{app_id}-{table}-changelog" for table in TABLES}


Store = MutableMapping[Any, Any]


class StateChange(NamedTuple):
    """One changelog record to produce: table, key, value (None deletes), partition.

    A NamedTuple, not a frozen dataclass: one is made per changed key per batch, and a frozen
    dataclass's `__init__` sets each field through `object.__setattr__`.
    """

    table: str
    key: bytes
    value: bytes | None
    partition: int


def encode_key(key: str) -> bytes:
    """Table keys byte for byte as Faust's `json` key serializer writes them: the changelog
    is compacted by key bytes, so a key written any other way would never replace Faust's.

    Faust's `json` codec writes with orjson when it is installed, and it is (a dependency of
    this package, for the values below): UTF-8, compact.
    """
    return _dumps(key)


def decode_key(key: bytes) -> str:
    """The table key `encode_key` wrote (lone surrogates included)."""
    decoded: str = json.loads(key.decode("utf-8", "surrogatepass"))
    return decoded


def encode_value(value: dict[str, Any]) -> bytes:
    """Table values as Faust's `json` value serializer writes them (~0.4 µs with orjson;
    `json` takes ~4 µs for a re-identification entry, written for most events)."""
    return _dumps(value)


def _dumps(value: Any) -> bytes:
    try:
        return orjson.dumps(value)
    except TypeError:  # orjson refuses ints past 64 bits and lone surrogates; `json` does not
        return json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode(
            "utf-8", "surrogatepass"
        )


def _judged_partition(value: Any) -> int | None:
    """The partition of a `judged:<subject>` value (None: a form expiry leaves alone)."""
    partition = value.get(PARTITION) if isinstance(value, dict) else None
    return partition if type(partition) is int else None


def _newest_judged(value: dict[str, Any]) -> int:
    """The newest access time of a `judged:<subject>` value (0 without a readable one)."""
    entries = value.get(ENTRIES)
    times = [
        entry[0]
        for entry in (entries if isinstance(entries, list) else ())
        if isinstance(entry, list) and entry and type(entry[0]) is int
    ]
    return max(times, default=0)


class StateView(NamedTuple):
    """The stores of a `TableState`, the objects themselves (not copies), for a native caller
    that reads and writes them exactly as `get`, `put` and `at` do, then sets `partition` and
    `event_ms` (see `dua_stream.processor.fastpath`); it reads them only when they are dicts.
    """

    consent: Store  # `consent:<subject>` -> value
    reidentification: Store  # `reid:<subject>` -> {"p": partition, "t": newest ms, "v": value}
    changes: dict[tuple[str, str], int]  # (table, key) changed -> partition, until drained
    watermarks: dict[int, int]  # partition -> newest event time seen (ms)
    consent_partitions: dict[str, int]  # consent keys written here -> partition (`retain`)


class TableState:
    """`RuleState` over two table stores; set `at(partition, event_ms)` before each event.

    Re-identification values are wrapped as `{"p": partition, "t": newest event ms, "v":
    value}` so that expiry can tell, for any entry (also one restored from the changelog),
    which partition's changelog its tombstone belongs to and how old it is.
    """

    __slots__ = (
        "_changes",
        "_consent",
        "_consent_partitions",
        "_reid",
        "event_ms",
        "partition",
        "watermarks",
    )

    def __init__(self, consent: Store, reidentification: Store) -> None:
        self._consent = consent
        self._reid = reidentification
        self._changes: dict[tuple[str, str], int] = {}
        # consent keys written here -> partition (Faust's store knows it for the keys it
        # restored from the changelog, not for ours); used by `retain`
        self._consent_partitions: dict[str, int] = {}
        self.partition = 0
        self.event_ms = 0
        self.watermarks: dict[int, int] = {}  # partition -> newest event time seen (ms)

    def at(self, partition: int, event_ms: int) -> None:
        """Say which input (partition, event time) the next reads and writes are for."""
        self.partition = partition
        self.event_ms = event_ms
        if event_ms > self.watermarks.get(partition, 0):
            self.watermarks[partition] = event_ms

    def view(self) -> StateView:
        """The stores themselves, for a native caller (see `StateView`)."""
        return StateView(
            self._consent, self._reid, self._changes, self.watermarks, self._consent_partitions
        )

    def get(self, key: str) -> dict[str, Any] | None:
        if key.startswith(REIDENTIFICATION_PREFIX):
            wrapped = self._reid.get(key)
            return None if wrapped is None else wrapped["v"]
        return self._consent.get(key)

    def put(self, key: str, value: dict[str, Any]) -> None:
        if key.startswith(REIDENTIFICATION_PREFIX):
            known = self._reid.get(key)
            newest = max(self.event_ms, known["t"]) if known is not None else self.event_ms
            self._reid[key] = {"p": self.partition, "t": newest, "v": value}
            self._changes[(REIDENTIFICATION_TABLE, key)] = self.partition
        else:
            self._consent[key] = value
            self._changes[(CONSENT_TABLE, key)] = self.partition
            self._consent_partitions[key] = self.partition

    def expire(self, window_ms: int, retention_ms: int | None = None) -> int:
        """Delete re-identification entries older than their partition's newest event time
        minus `window_ms` (such an entry can no longer complete a pattern) and, given
        `retention_ms`, accesses kept for a consent re-check (`recheck.py`) and findings kept
        for a contradiction (`unconsented.py`) whose newest is older than that; returns how
        many."""
        stale = [
            (key, wrapped["p"])
            for key, wrapped in self._reid.items()
            if wrapped["t"] < self.watermarks.get(wrapped["p"], 0) - window_ms
        ]
        for key, partition in stale:
            del self._reid[key]
            self._changes[(REIDENTIFICATION_TABLE, key)] = partition
        if retention_ms is None:
            return len(stale)
        judged = [
            (key, partition)
            for key, value in self._consent.items()
            if key.startswith(KEPT_PREFIXES)
            and (partition := _judged_partition(value)) is not None
            and _newest_judged(value) < self.watermarks.get(partition, 0) - retention_ms
        ]
        for key, partition in judged:
            del self._consent[key]
            self._consent_partitions.pop(key, None)
            self._changes[(CONSENT_TABLE, key)] = partition
        return len(stale) + len(judged)

    def retain(self, partitions: Collection[int]) -> int:
        """Forget, in memory only, the entries of every partition not in `partitions` (the
        ones this worker owns after a rebalance); returns how many were forgotten.

        Their new owner restores them from the changelog. Kept, they would be stale copies:
        worse, expiry would still judge them by this worker's last event time of their
        partition and write tombstones into a changelog another worker now writes, deleting
        that worker's newer entries there. No changelog records are written here.
        """
        owned = set(partitions)
        stale = [key for key, wrapped in self._reid.items() if wrapped["p"] not in owned]
        for key in stale:
            del self._reid[key]
        gone = [key for key, p in self._consent_partitions.items() if p not in owned]
        for key in gone:
            self._consent.pop(key, None)
            del self._consent_partitions[key]
        for partition in [p for p in self.watermarks if p not in owned]:
            del self.watermarks[partition]
        # none are pending between batches; were one, its record would be a tombstone now
        for change in [c for c, p in self._changes.items() if p not in owned]:
            del self._changes[change]
        return len(stale) + len(gone)

    def sizes(self) -> dict[str, int]:
        """Entries held in each table: this worker's partitions only, after `retain`."""
        return {CONSENT_TABLE: len(self._consent), REIDENTIFICATION_TABLE: len(self._reid)}

    def current_value(self, table: str, key: bytes) -> bytes | None:
        """The changelog value of an encoded key as `table` holds it now (None: deleted)."""
        return self._changelog_value(table, decode_key(key))

    def drain_changes(self) -> list[StateChange]:
        """The changelog records of every key changed since the last call."""
        changes = [
            StateChange(table, encode_key(key), self._changelog_value(table, key), partition)
            for (table, key), partition in self._changes.items()
        ]
        self._changes.clear()
        return changes

    def _changelog_value(self, table: str, key: str) -> bytes | None:
        """The changelog value of `key` as `table` holds it now (None: deleted)."""
        value = (self._reid if table == REIDENTIFICATION_TABLE else self._consent).get(key)
        return None if value is None else encode_value(value)
