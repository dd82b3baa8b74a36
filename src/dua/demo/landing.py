"""What the demo asks ClickHouse about its run (SQL in `sql/`), through the sink's reader."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from importlib import resources
from typing import Any

from dua.read_path import open_reader
from dua.settings import Settings


def _sql(name: str) -> str:
    return (resources.files("dua.demo") / "sql" / f"{name}.sql").read_text()


@dataclass(frozen=True, slots=True)
class Landed:
    events: int  # distinct event ids queryable
    rows: int  # rows the queries see (above `events` only if duplicates were visible)


class RunQueries:
    """Questions about one demo run, asked through `open_reader` (the sink's endpoint while
    the sink owns the embedded ClickHouse)."""

    def __init__(self, settings: Settings, run_id: str) -> None:
        self._settings = settings
        self._run = run_id

    def _rows(self, name: str, **parameters: Any) -> list[tuple[Any, ...]]:
        reader = open_reader(self._settings)
        try:
            return reader.query(_sql(name), {"run": self._run, **parameters}).rows
        finally:
            reader.close()

    def landed(self) -> Landed:
        events, rows = self._rows("landed")[0]
        return Landed(int(events), int(rows))

    def purpose_by_category(self) -> list[tuple[str, str, int]]:
        return [(str(p), str(c), int(n)) for p, c, n in self._rows("purpose_by_category")]

    def violations(self) -> list[tuple[str, str, int]]:
        return [(str(r), str(s), int(n)) for r, s, n in self._rows("violations")]

    def latency_ms(self) -> tuple[float, float]:
        p50, p99 = self._rows("latency")[0]
        return float(p50), float(p99)

    def latency_stages_ms(self) -> dict[str, float]:
        """p50/p99 of emit → processed and of processed → queryable, in milliseconds."""
        names = ("processor_p50_ms", "processor_p99_ms", "sink_p50_ms", "sink_p99_ms")
        return {
            name: float(v) for name, v in zip(names, self._rows("latency_stages")[0], strict=True)
        }

    def provisions(self) -> tuple[int, int, int]:
        """APPI provision records, Art. 31 confirmations, Art. 31 cases without consent."""
        provided, confirmed, unconfirmed = self._rows("provisions")[0]
        return int(provided), int(confirmed), int(unconfirmed)

    def rejected_since(self, since: datetime) -> int:
        return int(self._rows("rejected", since=since)[0][0])
