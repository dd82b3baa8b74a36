"""`dua policy backtest FILE`: a candidate policy against the stored access events.

Attached to the `policy` group by `dua.commands.policy`.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import click

from dua.read_path import open_reader
from dua.settings import load_settings
from dua_compliance import backtest as run_backtest
from dua_compliance import render_backtest, window_start
from dua_compliance.event_replay import stored_events
from dua_policy import load_policy


@click.command()
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--since", default="30d", show_default=True, help="Replay this window: 7d, 30d…")
def backtest(file: Path, since: str) -> None:
    """Replay stored events under the policy in FILE; print findings that would be new or
    would vanish, by rule and service, with sample event ids."""
    policy = load_policy(file)
    settings = load_settings()
    reader = open_reader(settings)
    try:
        result = run_backtest(stored_events(reader, window_start(since, datetime.now(UTC))), policy)
    finally:
        reader.close()
    click.echo(render_backtest(result), nl=False)
