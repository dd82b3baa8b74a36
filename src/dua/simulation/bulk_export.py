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

from dua_producer import AuditClient, Operation

SERVICE: Final = "carsensor"
PURPOSE: Final = "marketing.campaign_notice"
ELEMENTS: Final = ("user.account.id", "user.name", "user.contact.email")
CATEGORY: Final = "personal"  # the data category of every element above
FLUSH_TIMEOUT_S: Final = 30.0
# Attribute of the history's accesses (sent now, stamped days ago).
BACKFILL_ATTRIBUTE: Final = "sim_backfill"


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
    rng = random.Random(seed)  # noqa: S311 - reproducible traffic, not secrets
    start = now or datetime.now(UTC)
    client = clients(SERVICE)
    run = {"sim_run": run_id} if run_id else {}

    def send(
        subject: str, operation: Operation, at: datetime | None, attributes: dict[str, str]
    ) -> None:
        client.emit(
            list(ELEMENTS),
            PURPOSE,
            subject=subject,
            operation=operation,
            occurred_at=at,
            attributes=attributes or None,
            actor_kind="SERVICE",
            actor_id=f"{SERVICE}-campaign-export",
        )

    history = 0
    try:
        this_hour = start.replace(minute=0, second=0, microsecond=0)
        for back in range(1, days + 1):
            # The hour itself and its neighbours, in case the run crosses into the next hour.
            for offset in (-1, 0, 1):
                hour = this_hour - timedelta(days=back, hours=offset)
                for _ in range(max(0, round(rng.gauss(usual_per_hour, usual_per_hour**0.5)))):
                    at = hour + timedelta(seconds=rng.randrange(3600))
                    # Marked, so the demo's emit-to-queryable latency leaves it out.
                    backfill = {**run, BACKFILL_ATTRIBUTE: "1"}
                    send(f"member-{rng.randrange(2000):05d}", "READ", at, backfill)
                    history += 1
        spike_hour = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
        for _ in range(spike):  # now: stamped by the SDK as it sends them
            send(f"member-{rng.randrange(100_000):06d}", "EXPORT", None, run)
        client.flush(FLUSH_TIMEOUT_S)
    finally:
        client.close()
    return PlantedSpike(
        SERVICE,
        PURPOSE.split(".", maxsplit=1)[0],
        CATEGORY,
        spike_hour,
        usual_per_hour,
        history,
        spike,
    )
