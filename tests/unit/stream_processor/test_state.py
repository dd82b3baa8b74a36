"""`TableState`: the engine's state in two stores, changes batched into changelog records."""

from __future__ import annotations

import json
from typing import Any

from faust.serializers import codecs

from dua_policy import Engine, MemoryState
from dua_stream.processor import TableState
from dua_stream.processor.state import decode_key, encode_key

from .conftest import T0, access_event, ad_event, opt_out


def _state() -> tuple[TableState, dict[Any, Any], dict[Any, Any]]:
    consent: dict[Any, Any] = {}
    reid: dict[Any, Any] = {}
    return TableState(consent, reid), consent, reid


def _windows(*entries: tuple[int, int, str]) -> tuple[TableState, dict[Any, Any]]:
    """A state holding re-identification entries written at (partition, event ms, key),
    their changelog records already drained; and its re-identification store."""
    state, _, reid = _state()
    for partition, event_ms, key in entries:
        state.at(partition, event_ms)
        state.put(key, {"a": {}})
    state.drain_changes()
    return state, reid


def test_keys_go_to_their_table() -> None:
    """`reid:` keys land in the re-identification store (wrapped), others in the consent store."""
    state, consent, reid = _state()
    state.at(1, 1_000)
    state.put("consent:a", {"targeting_opt_out": True})
    state.put("reid:a", {"x": {"linkable_at": 1_000}})
    assert consent == {"consent:a": {"targeting_opt_out": True}}
    assert reid == {"reid:a": {"p": 1, "t": 1_000, "v": {"x": {"linkable_at": 1_000}}}}
    assert state.get("reid:a") == {"x": {"linkable_at": 1_000}}
    assert state.get("reid:b") is None


def test_changes_are_one_record_per_key_on_its_partition() -> None:
    """Three writes of one key in a batch give one changelog record, with the last value."""
    state, _, _ = _state()
    state.at(3, 5)
    for n in range(3):
        state.put("consent:a", {"n": n})
    changes = state.drain_changes()
    assert [(c.table, c.partition) for c in changes] == [("consent", 3)]
    assert json.loads(changes[0].value or b"") == {"n": 2}
    assert state.drain_changes() == []


def test_changelog_bytes_are_what_faust_json_reads() -> None:
    """Faust's `json` codec (the tables' serializer) reads our keys and values back."""
    state, _, _ = _state()
    state.at(0, 7)
    state.put("reid:s", {"a": {"identifying_at": 7}})
    (change,) = state.drain_changes()
    assert codecs.loads("json", change.key) == "reid:s"
    assert codecs.loads("json", change.value) == {"p": 0, "t": 7, "v": {"a": {"identifying_at": 7}}}


def test_keys_are_faust_s_own_bytes_and_odd_values_still_read_back() -> None:
    """Keys byte for byte as Faust writes them (compaction goes by key bytes), non-ASCII
    included; values with non-ASCII text, or an int orjson refuses, read back the same."""
    state, _, _ = _state()
    state.at(0, 7)
    values = {
        "consent:süß": {"note": 'ü\u2028"', "occurred_at": 2**40},
        "consent:big": {"occurred_at": 2**70},  # past 64 bits: written by `json`
    }
    for key, value in values.items():
        state.put(key, value)
    changes = {codecs.loads("json", c.key): c for c in state.drain_changes()}
    for key, value in values.items():
        assert changes[key].key == codecs.dumps("json", key)
        assert codecs.loads("json", changes[key].value) == value


def test_expiry_deletes_old_windows_with_tombstones() -> None:
    """Entries older than their partition's newest event time minus the window are deleted."""
    state, reid = _windows(
        (0, 1_000, "reid:old"), (1, 1_000, "reid:other-partition"), (0, 10_000, "reid:new")
    )
    assert state.expire(window_ms=5_000) == 1
    assert set(reid) == {"reid:other-partition", "reid:new"}
    (tombstone,) = state.drain_changes()
    assert (tombstone.partition, tombstone.value) == (0, None)


def test_engine_verdicts_match_memory_state(engine: Engine) -> None:
    """The engine decides the same over `TableState` as over its own `MemoryState`."""
    table, memory = _state()[0], MemoryState()
    subject = "a" * 64
    engine.apply_consent(opt_out(subject), memory)  # type: ignore[arg-type]
    table.at(0, 0)
    engine.apply_consent(opt_out(subject), table)  # type: ignore[arg-type]
    events = [ad_event(subject), ad_event("b" * 64), access_event()]
    for event in events:
        table.at(0, int(T0.timestamp() * 1000))
        expected = [f.rule for f in engine.classify(event, memory).violations]  # type: ignore[arg-type]
        got = [f.rule for f in engine.classify(event, table).violations]  # type: ignore[arg-type]
        assert got == expected
    assert [f.rule for f in engine.classify(events[0], table).violations] == [  # type: ignore[arg-type]
        "targeting_opted_out"
    ]


def test_a_rebalance_forgets_the_partitions_given_away_without_changelog_records() -> None:
    """After `retain`, nothing of a partition given away is left to read, expire or write."""
    state, consent, reid = _state()
    for partition in (0, 1, 2):
        state.at(partition, 1_000)
        state.put(f"reid:s{partition}", {"a": {}})
        state.put(f"consent:s{partition}", {"targeting_opt_out": True})
    state.drain_changes()
    restored_by_faust = {"targeting_opt_out": False}
    consent["consent:restored"] = restored_by_faust  # Faust's store drops its own keys itself
    assert state.sizes() == {"consent": 4, "reidentification": 3}
    assert state.retain({0, 2}) == 2
    assert set(reid) == {"reid:s0", "reid:s2"}
    assert set(consent) == {"consent:s0", "consent:s2", "consent:restored"}
    assert state.sizes() == {"consent": 3, "reidentification": 2}  # what the gauge shows
    assert set(state.watermarks) == {0, 2}
    assert state.drain_changes() == []


def test_expiry_after_a_rebalance_writes_no_tombstone_into_another_worker_s_changelog() -> None:
    """The bug `retain` prevents: an old entry of a partition given away would be expired by
    this worker's last event time there, and its tombstone would delete the new owner's
    newer entry in the changelog."""
    state, reid = _windows(
        (1, 1_000, "reid:moved"), (1, 100_000, "reid:recent"), (0, 100_000, "reid:kept")
    )
    state.retain({0})
    assert state.expire(window_ms=5_000) == 0
    assert state.drain_changes() == []
    assert set(reid) == {"reid:kept"}


def test_retain_drops_a_pending_change_rather_than_write_it_as_a_tombstone() -> None:
    state, _, _ = _state()
    state.at(3, 1_000)
    state.put("reid:x", {"a": {}})
    state.retain({0})
    assert state.drain_changes() == []


def test_current_value_is_the_value_a_key_has_now() -> None:
    """What a changelog record produced again carries: the key's value now, or a tombstone."""
    state, _, _ = _state()
    state.at(2, 1_000)
    state.put("reid:a", {"x": {"linkable_at": 1_000}})
    state.put("consent:a", {"targeting_opt_out": False})
    first = {c.key: c.value for c in state.drain_changes()}
    state.at(2, 2_000)
    state.put("reid:a", {"x": {"linkable_at": 2_000}})
    state.put("consent:a", {"targeting_opt_out": True})
    newest = {c.key: c.value for c in state.drain_changes()}
    for table, key in (("reidentification", "reid:a"), ("consent", "consent:a")):
        encoded = json.dumps(key).encode()
        assert first[encoded] != newest[encoded]
        assert state.current_value(table, encoded) == newest[encoded]
    state.at(2, 10_000_000)
    assert state.expire(1_000) == 1
    assert state.current_value("reidentification", b'"reid:a"') is None


def test_keys_decode_to_what_was_encoded() -> None:
    for key in ("consent:a", "reid:ü-主体", "reid:\ud800-lone", 'reid:"quoted"\\'):
        assert decode_key(encode_key(key)) == key
