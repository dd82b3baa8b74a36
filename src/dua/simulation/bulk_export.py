"""A planted bulk export, and the history that makes it stand out.

A volume anomaly is judged against the same hour of past days, so the simulator first writes
that history: for each of the past `days` days, the hours around this one carry the usual,
noisy level of one series (`carsensor` reading personal contact data for a marketing purpose,
which the regular scenarios never do), sent through the SDK with their past `occurred_at`,
through the whole pipeline. Then it sends the spike: `spike` EXPORT accesses of that series in
the current hour, from many subjects. Every access is compliant with the default policy, so
what finds the spike is the volume alone.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Final

from dua_producer import AuditClient

SERVICE: Final = "carsensor"
PURPOSE: Final = "marketing.campaign_notice"
ELEMENTS: Final = ("user.account.id", "user.name", "user.contact.email")
CATEGORY: Final = "personal"  # the data category of every element above
FLUSH_TIMEOUT_S: Final = 30.0


@dataclass(frozen=True, slots=True)
class PlantedSpike:
    """What was sent: the series, the spike's hour, and how many accesses of each kind."""

    service: str
    purpose_category: str
    category: str
    hour: datetime
    usual_per_hour: int
    history_accesses: int
    spike_accesses: int

    @property
    def emitted(self) -> int:
        return self.history_accesses + self.spike_accesses

    def describe(self) -> str:
        return (
            f"{self.service} {self.purpose_category} {self.category} at "
            f"{self.hour:%Y-%m-%d %H:00} UTC ({self.spike_accesses} EXPORT accesses over a "
            f"usual ~{self.usual_per_hour} an hour)"
        )


def plant_bulk_export(
    clients: Callable[[str], AuditClient],
    *,
    run_id: str,
    seed: int,
    days: int = 7,
    usual_per_hour: int = 30,
    spike: int = 600,
    now: datetime | None = None,
) -> PlantedSpike:
    """Send the history and then the spike (see the module docstring); flushed on return."""
    rng = random.Random(seed)
    now = now or datetime.now(UTC)
    hour = now.replace(minute=0, second=0, microsecond=0)
    client = clients(SERVICE)
    attributes = {"sim_run": run_id} if run_id else None

    def send(at: datetime, subject: str, operation: str) -> None:
        client.emit(
            list(ELEMENTS),
            PURPOSE,
            subject=subject,
            operation=operation,  # type: ignore[arg-type]
            occurred_at=at,
            attributes=attributes,
            actor_kind="SERVICE",
            actor_id=f"{SERVICE}-campaign-export",
        )

    history = 0
    try:
        for back in range(1, days + 1):
            for offset in (-1, 0, 1):  # the hour itself and its neighbours, for a run that
                start = hour - timedelta(days=back, hours=offset)  # crosses the hour
                for _ in range(max(0, round(rng.gauss(usual_per_hour, usual_per_hour**0.5)))):
                    at = start + timedelta(seconds=rng.randrange(3600))
                    send(at, f"member-{rng.randrange(2000):05d}", "READ")
                    history += 1
        for _ in range(spike):
            send(
                hour
                + timedelta(seconds=rng.randrange(max(1, int((now - hour).total_seconds())) + 1)),
                f"member-{rng.randrange(100_000):06d}",
                "EXPORT",
            )
        client.flush(FLUSH_TIMEOUT_S)
    finally:
        client.close()
    return PlantedSpike(
        SERVICE, PURPOSE.split(".", maxsplit=1)[0], CATEGORY, hour, usual_per_hour, history, spike
    )
