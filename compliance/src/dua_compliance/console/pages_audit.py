"""Audit explorer, event view, exports and overview: what every role may read."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import Route

from dua_compliance.console.audit_reads import (
    event_detail,
    explorer_page,
    export_chunks,
)
from dua_compliance.console.errors import InvalidInput, NotFound
from dua_compliance.console.exports import CSV_MEDIA, csv_stream, json_stream
from dua_compliance.console.filters import FRAGMENTS, SEVERITIES, parse_filter
from dua_compliance.console.roles import Permission
from dua_compliance.html_report import render_sections
from dua_compliance.report_data import collect_report
from dua_compliance.time_window import parse_duration
from dua_schemas import ConfigError

if TYPE_CHECKING:
    from dua_compliance.console.web import Console

MAX_RAW_ID = 256
_MEDIA = {"csv": CSV_MEDIA, "json": "application/json"}


def _query(request: Request) -> dict[str, list[str]]:
    query: dict[str, list[str]] = {}
    for key, value in request.query_params.multi_items():
        query.setdefault(key, []).append(value)
    return query


def audit_routes(console: Console) -> list[Route]:
    """The read side's routes."""
    guard = console.guard

    @guard.requires(Permission.READ)
    async def explorer(request: Request) -> Response:
        audit_filter = parse_filter(_query(request), now=datetime.now(UTC))
        page, total = await run_in_threadpool(explorer_page, console.reader, audit_filter)
        console.audit(request, "search", audit_filter.describe(), total)
        return console.page(
            request,
            "explorer.html",
            filter=audit_filter,
            rows=list(page.dicts()),
            total=total,
            fields=list(FRAGMENTS),
            severities=SEVERITIES,
        )

    def export(kind: str) -> Any:
        @guard.requires(Permission.READ)
        async def send(request: Request) -> Response:
            audit_filter = parse_filter(_query(request), now=datetime.now(UTC))
            user = request.state.caller.user.name

            def logged(rows: int) -> None:
                detail = {"format": kind, "filter": audit_filter.describe()}
                console.store.append_audit(
                    user, "export", detail, now=datetime.now(UTC), row_count=rows
                )

            stream = csv_stream if kind == "csv" else json_stream
            return StreamingResponse(
                stream(export_chunks(console.reader, audit_filter), logged),
                media_type=_MEDIA[kind],
                headers={"content-disposition": f'attachment; filename="access-events.{kind}"'},
            )

        return send

    @guard.requires(Permission.READ)
    async def event(request: Request) -> Response:
        event_id = request.path_params["event_id"][:128]
        found, violations = await run_in_threadpool(event_detail, console.reader, event_id)
        if found is None:
            raise NotFound(f"event {event_id!r}")
        console.audit(request, "event_view", {"event_id": event_id})
        rows = list(violations.dicts())
        for row in rows:
            row["rule_text"] = console.config.rule_texts.get(row["rule"], "")
        return console.page(request, "event.html", event=found, violations=rows)

    @guard.requires(Permission.READ)
    async def overview(request: Request) -> Response:
        window = request.query_params.get("since", "7d")
        try:
            span = parse_duration(window)
        except ConfigError as exc:
            raise InvalidInput(str(exc)) from None
        if span > timedelta(days=3660):
            raise InvalidInput("the window is at most 3660 days")
        until = datetime.now(UTC)
        data = await run_in_threadpool(collect_report, console.reader, until - span, until)
        return console.page(request, "overview.html", charts=render_sections(data), since=window)

    return [
        Route("/explorer", explorer, methods=["GET"]),
        Route("/explorer/export.csv", export("csv"), methods=["GET"]),
        Route("/explorer/export.json", export("json"), methods=["GET"]),
        Route("/events/{event_id}", event, methods=["GET"]),
        Route("/overview", overview, methods=["GET"]),
    ]
