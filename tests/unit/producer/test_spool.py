"""The durable spool: order, torn tails, bounds, acknowledgements, exclusive use."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from dua_producer import Spool
from dua_producer.spool_format import frame, scan
from dua_producer.vocabulary import FsyncPolicy
from dua_schemas import ConfigError


def open_spool(directory: Path, **options: object) -> Spool:
    settings: dict[str, object] = {"max_bytes": 1_000_000, "segment_bytes": 4096}
    settings.update(options)
    return Spool(directory, **settings)  # type: ignore[arg-type]


def fill(spool: Spool, count: int, start: int = 0) -> None:
    for i in range(start, start + count):
        assert spool.append("dua.access.raw", f"key-{i}".encode(), f"value-{i:05d}".encode() * 8)


def drain(spool: Spool, limit: int = 7) -> list[bytes]:
    """Replay everything (in batches of `limit`), acknowledging all; return the keys in order."""
    keys: list[bytes] = []
    while batch := spool.next_batch(limit):
        keys.extend(r.key for r in batch)
        spool.settle(batch, len(batch))
    return keys


@pytest.mark.parametrize("fsync", ["always", "interval", "never"])
def test_replay_returns_records_in_append_order(tmp_path: Path, fsync: FsyncPolicy) -> None:
    """Across several segments, replay yields every record once, oldest first."""
    spool = open_spool(tmp_path, fsync=fsync)
    fill(spool, 100)
    assert len(list(tmp_path.glob("*.seg"))) > 1  # 100 records of ~100 bytes, 4 KiB segments
    assert spool.pending == 100
    assert drain(spool) == [f"key-{i}".encode() for i in range(100)]
    assert spool.pending == 0
    spool.close()


def test_delivered_segments_are_deleted(tmp_path: Path) -> None:
    """Once every record of a segment is acknowledged, its file is gone and its bytes freed."""
    spool = open_spool(tmp_path)
    fill(spool, 100)
    assert spool.size_bytes > 0
    drain(spool)
    assert list(tmp_path.glob("*.seg")) == []
    assert list(tmp_path.glob("*.ack")) == []
    assert spool.size_bytes == 0
    spool.close()


def test_records_appended_during_replay_follow_the_older_ones(tmp_path: Path) -> None:
    """New appends while replaying land behind the records being replayed."""
    spool = open_spool(tmp_path)
    fill(spool, 5)
    first = spool.next_batch(3)
    fill(spool, 5, start=5)
    spool.settle(first, 3)
    assert [r.key for r in first] + drain(spool) == [f"key-{i}".encode() for i in range(10)]
    spool.close()


def test_unconfirmed_part_of_a_batch_is_replayed_again_first(tmp_path: Path) -> None:
    """If only some of a batch was delivered, the rest comes back before anything newer."""
    spool = open_spool(tmp_path)
    fill(spool, 6)
    batch = spool.next_batch(4)
    spool.settle(batch, 1)
    assert spool.pending == 5
    assert drain(spool) == [f"key-{i}".encode() for i in range(1, 6)]
    spool.close()


def test_spool_survives_a_restart_and_resumes_after_the_acknowledged(tmp_path: Path) -> None:
    """After close and reopen (or a crash), only records not yet acknowledged come back."""
    spool = open_spool(tmp_path, segment_bytes=1_000_000)
    fill(spool, 10)
    batch = spool.next_batch(4)
    spool.settle(batch, 4)
    spool.close()
    reopened = open_spool(tmp_path, segment_bytes=1_000_000)
    assert reopened.pending == 6
    assert drain(reopened) == [f"key-{i}".encode() for i in range(4, 10)]
    reopened.close()


def test_torn_last_record_is_skipped_with_a_log_line(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """A record cut short by a crash mid-write is dropped on recovery; the others survive."""
    spool = open_spool(tmp_path, segment_bytes=1_000_000)
    fill(spool, 3)
    spool.close()
    (segment,) = tmp_path.glob("*.seg")
    torn = frame("dua.access.raw", b"key-torn", b"value-torn" * 10)
    with segment.open("ab") as out:
        out.write(torn[: len(torn) // 2])
    with caplog.at_level(logging.WARNING, logger="dua_producer.spool"):
        reopened = open_spool(tmp_path)
    assert reopened.pending == 3
    assert "cut short" in caplog.text
    assert drain(reopened) == [b"key-0", b"key-1", b"key-2"]
    reopened.close()


def test_corrupt_last_record_is_skipped(tmp_path: Path) -> None:
    """A complete-looking last record whose checksum fails counts as torn too."""
    records = frame("t", b"k1", b"v1") + frame("t", b"k2", b"v2")
    damaged = bytearray(records)
    damaged[-1] ^= 0xFF
    found, end = scan(bytes(damaged))
    assert [r.key for r in found] == [b"k1"]
    assert not end.clean
    assert "checksum" in end.problem


def test_full_spool_refuses_appends_and_stays_within_its_bound(tmp_path: Path) -> None:
    """Past max_bytes, append returns False; the files never exceed the bound."""
    spool = open_spool(tmp_path, max_bytes=2000)
    accepted = sum(spool.append("t", b"k", b"v" * 100) for _ in range(50))
    assert 0 < accepted < 50
    assert spool.size_bytes <= 2000
    assert sum(p.stat().st_size for p in tmp_path.glob("*.seg")) <= 2000
    drain(spool)
    assert spool.append("t", b"k", b"v" * 100), "delivered records free their room"
    spool.close()


def test_a_directory_is_used_by_one_process_at_a_time(tmp_path: Path) -> None:
    """A second spool on a directory in use is a ConfigError naming DUA_SPOOL_DIR."""
    spool = open_spool(tmp_path)
    with pytest.raises(ConfigError, match="DUA_SPOOL_DIR"):
        open_spool(tmp_path)
    spool.close()
    open_spool(tmp_path).close()


def test_cursor_off_record_bounds_replays_the_whole_segment(tmp_path: Path) -> None:
    """A damaged acknowledgement file means duplicates, never loss."""
    spool = open_spool(tmp_path, segment_bytes=1_000_000)
    fill(spool, 4)
    spool.settle(spool.next_batch(2), 2)
    spool.close()
    (ack,) = tmp_path.glob("*.ack")
    ack.write_text("7", encoding="ascii")
    reopened = open_spool(tmp_path)
    assert drain(reopened) == [f"key-{i}".encode() for i in range(4)]
    reopened.close()
