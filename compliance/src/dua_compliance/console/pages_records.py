"""Pages of the records: the observed data map with its drift, and the volume anomalies.

Both are read-only and show no subject: every role may read them (`Permission.READ`).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from dua_compliance.console.errors import InvalidInput
from dua_compliance.console.roles import Permission
from dua_compliance.datamap import observed_map
from dua_compliance.time_window import parse_duration
from dua_compliance.volume_anomalies import find_anomalies
from dua_schemas import ConfigError

if TYPE_CHECKING:
    from dua_compliance.console.web import Console

MAX_WINDOW = timedelta(days=3660)
MAP_WINDOWS = ("7d", "30d", "90d", "365d")
ANOMALY_WINDOWS = ("24h", "3d", "7d", "30d")


def _window(request: Request, default: str) -> tuple[str, timedelta]:
    text = request.query_params.get("since", default)
    try:
        span = parse_duration(text)
    except ConfigError as exc:
        raise InvalidInput(str(exc)) from None
    if span > MAX_WINDOW:
        raise InvalidInput("the window is at most 3660 days")
    return text, span


def records_routes(console: Console) -> list[Route]:
    """The routes of the data map and anomalies pages."""
    guard = console.guard

    @guard.requires(Permission.READ)
    async def datamap(request: Request) -> Response:
        inputs = console.config.records
        if inputs is None:
            return console.page(request, "datamap.html", enabled=False, windows=MAP_WINDOWS)
        text, span = _window(request, "30d")
        now = datetime.now(UTC)
        data_map = await run_in_threadpool(
            lambda: observed_map(
                console.reader, inputs.policy, since=now - span, now=now, windows=inputs.windows
            )
        )
        console.audit(request, "datamap_view", {"since": text}, len(data_map.entries))
        return console.page(
            request,
            "datamap.html",
            enabled=True,
            since=text,
            windows=MAP_WINDOWS,
            drift=data_map.drift_counts(),
            map=data_map,
            observed=[e for e in data_map.entries if "unseen" not in e.drift],
            unseen=data_map.drifted("unseen"),
        )

    @guard.requires(Permission.READ)
    async def anomalies(request: Request) -> Response:
        inputs = console.config.records
        if inputs is None:
            return console.page(request, "anomalies.html", enabled=False, windows=ANOMALY_WINDOWS)
        text, span = _window(request, "24h")
        now = datetime.now(UTC)
        found = await run_in_threadpool(
            lambda: find_anomalies(
                console.reader, since=now - span, now=now, config=inputs.anomalies
            )
        )
        console.audit(request, "anomalies_view", {"since": text}, len(found))
        return console.page(
            request,
            "anomalies.html",
            enabled=True,
            since=text,
            windows=ANOMALY_WINDOWS,
            anomalies=found,
            config=inputs.anomalies,
        )

    return [
        Route("/datamap", datamap, methods=["GET"]),
        Route("/anomalies", anomalies, methods=["GET"]),
    ]
