"""`dua datamap`: the observed data map and its drift from the declared policy."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Literal

import click

from dua.read_path import open_reader
from dua.records_wiring import RecordsView
from dua.settings import load_settings
from dua_compliance import DataMap, render_datamap_html, render_result, window_start
from dua_schemas import EPOCH

MapFormat = Literal["table", "csv", "json", "html"]


@click.command()
@click.option(
    "--since", default=None, help="Only combinations seen in this window (30d, 12h…); default: all."
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["table", "csv", "json", "html"]),
    default="table",
    show_default=True,
)
def datamap(since: str | None, fmt: MapFormat) -> None:
    """Print what services did with personal data, and where it drifts from the policy.

    One row per service x purpose x element x destination x processing, with first and last
    seen, accesses and distinct subjects. The `drift` column says `undeclared` (the engine found
    the element not permitted for the purpose), `new` (first seen in DUA_DATAMAP_NEW_DAYS days)
    or `unseen` (declared by the policy, not used in DUA_DATAMAP_UNSEEN_DAYS days).
    """
    settings = load_settings()
    now = datetime.now(UTC)
    start = window_start(since, now) if since else EPOCH
    reader = open_reader(settings)
    try:
        data_map = RecordsView.of(settings, reader).data_map(start, now)
    finally:
        reader.close()
    click.echo(render_datamap(data_map, fmt), nl=False)


def render_datamap(data_map: DataMap, fmt: MapFormat) -> str:
    """The map in one of the formats; the table opens with the drift counts."""
    if fmt == "html":
        return render_datamap_html(data_map)
    text = render_result(data_map.result(), fmt)
    if fmt != "table":
        return text
    counts = data_map.drift_counts()
    head = (
        f"data map: {len(data_map.entries) - counts['unseen']} combinations observed; drift: "
        f"{counts['undeclared']} undeclared, {counts['new']} new in "
        f"{data_map.windows.new_days}d, {counts['unseen']} declared but unseen in "
        f"{data_map.windows.unseen_days}d\n"
    )
    return head + text
