"""`dua demo` (what `make demo` runs)."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from dua.demo import Demo, DemoOptions, render
from dua.demo.orchestrate import subject_key
from dua.settings import load_settings


@click.command()
@click.option("--rate", type=float, default=300.0, show_default=True, help="Accesses per second.")
@click.option("--duration", type=float, default=20.0, show_default=True, help="Seconds of traffic.")
@click.option(
    "--violation-rate",
    type=click.FloatRange(0.0, 1.0),
    default=0.1,
    show_default=True,
    help="Share of accesses planted to break a rule.",
)
@click.option("--seed", type=int, default=7, show_default=True, help="Seed of the traffic plan.")
@click.option(
    "--console",
    "with_console",
    is_flag=True,
    help="Then serve the compliance console on the demo's data (until Ctrl-C).",
)
@click.option(
    "--report",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Where to write the HTML report [default: <state_dir>/demo-report.html].",
)
def demo(
    *,
    rate: float,
    duration: float,
    violation_rate: float,
    seed: int,
    with_console: bool,
    report: Path | None,
) -> None:
    """Run the whole system on this machine: start the local Kafka broker (unless
    DUA_KAFKA_BOOTSTRAP is set), the processor and the sink (which migrates the embedded
    ClickHouse), send simulated traffic from the seed's services through the SDK, wait until
    every event is queryable, print a summary and write the HTML report. Every process it
    started is stopped at the end, and on Ctrl-C."""
    settings = load_settings()
    options = DemoOptions(rate, duration, violation_rate, seed, report=report)
    summary = Demo(settings, options, lambda line: click.echo(line, err=True)).run()
    click.echo(render(summary))
    if summary.report_path:
        click.echo(f"\nHTML report: {summary.report_path}")
    state = settings.state_dir
    click.echo(
        "\nQuery further (the embedded ClickHouse is in "
        f"{settings.chdb_path}):\n"
        f"  DUA_STATE_DIR={state} .venv/bin/dua query --list\n"
        f"  DUA_STATE_DIR={state} .venv/bin/dua query --saved violations_by_rule_service "
        "--since 1d\n"
        f"  DUA_STATE_DIR={state} .venv/bin/dua report --since 1d\n"
        f"  DUA_SUBJECT_KEY=$(cat {state}/demo-subject.key) .venv/bin/dua subject user-00042"
    )
    if not summary.complete:
        sys.exit(1)
    if with_console:
        from dua.commands.console import serve  # noqa: PLC0415
        from dua.demo.console_login import demo_login  # noqa: PLC0415

        user, password = demo_login(settings)
        console_settings = load_settings(subject_key=subject_key(settings, click.echo))
        click.echo(
            f"\nCompliance console: http://{settings.console_host}:{settings.console_port}/\n"
            f"  demo login: user {user}, password {password} (admin, may look subjects up, "
            "e.g. user-00042)\n  Ctrl-C stops it."
        )
        serve(console_settings)
