"""`dua report`: a summary in the terminal, and optionally a self-contained HTML file."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import click

from dua.read_path import open_reader
from dua.settings import load_settings
from dua_compliance import collect_report, render_html, render_text, window_start


@click.command()
@click.option("--since", default="7d", show_default=True, help="Window: 12h, 7d, 2w…")
@click.option(
    "--html",
    "html_path",
    type=click.Path(dir_okay=False, writable=True, path_type=Path),
    help="Also write the report as one HTML file (inline SVG charts, nothing fetched).",
)
def report(since: str, html_path: Path | None) -> None:
    """Summarise accesses and violations: purpose x category, violations over time, top
    services and rules."""
    settings = load_settings()
    until = datetime.now(UTC)
    reader = open_reader(settings)
    try:
        data = collect_report(reader, window_start(since, until), until)
    finally:
        reader.close()
    click.echo(render_text(data), nl=False)
    if html_path is not None:
        html_path.write_text(render_html(data), encoding="utf-8")
        click.echo(f"\nHTML report written to {html_path}")
