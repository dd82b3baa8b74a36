"""`dua policy check | show | diff`: validate, display and compare policy files."""

from __future__ import annotations

from pathlib import Path

import click

from dua.commands.classify import open_input, resolve_policy
from dua.commands.policy_backtest import backtest
from dua.event_input import FORMATS, Access, Consent, InputFormat, read_items
from dua_policy import Engine, MemoryState, PolicyError, load_policy
from dua_policy.comparison import compare_verdicts
from dua_policy.matrix import permission_matrix

_FILE = click.Path(exists=True, dir_okay=False, path_type=Path)


@click.group()
def policy() -> None:
    """Check, show and compare policy files."""


@policy.command()
@click.argument("file", type=_FILE)
def check(file: Path) -> None:
    """Validate FILE: every problem with its location, exit status 1 when there is any."""
    try:
        loaded = load_policy(file)
    except PolicyError as exc:
        for problem in exc.problems:
            click.echo(str(problem), err=True)
        click.echo(f"{file}: {len(exc.problems)} problem(s)", err=True)
        raise click.exceptions.Exit(1) from None
    modes = [r.mode for r in loaded.rules]
    click.echo(
        f"{file}: ok, policy {loaded.version}: {len(loaded.purposes)} purposes, "
        f"{len(loaded.elements)} elements, {len(loaded.rules)} rules "
        f"({modes.count('active')} active, {modes.count('shadow')} shadow)"
    )


@policy.command()
@click.option("--policy", "policy_path", type=_FILE, help="Policy YAML (default: DUA_POLICY).")
def show(policy_path: Path | None) -> None:
    """Print which elements each purpose may use, as a table."""
    click.echo(permission_matrix(resolve_policy(policy_path)))


@policy.command()
@click.argument("old", type=_FILE)
@click.argument("new", type=_FILE)
@click.option(
    "--input", "input_path", type=_FILE, required=True, help="Events to classify under both."
)
@click.option("--format", "input_format", type=click.Choice(FORMATS), default="jsonl")
def diff(old: Path, new: Path, input_path: Path, input_format: InputFormat) -> None:
    """Classify the events under OLD and NEW; print each event whose violations differ.

    `+rule` is raised only under NEW, `-rule` only under OLD, `~rule` under both with another
    severity, mode or element list.
    """
    before, after = Engine(load_policy(old)), Engine(load_policy(new))
    before_state, after_state = MemoryState(), MemoryState()
    events = differing = rejected = 0
    with open_input(input_path) as stream:
        for item in read_items(stream, input_format):
            if isinstance(item, Consent):
                before.apply_consent(item.change, before_state)
                after.apply_consent(item.change, after_state)
            elif isinstance(item, Access):
                events += 1
                change = compare_verdicts(
                    before.classify(item.event, before_state),
                    after.classify(item.event, after_state),
                )
                if change is not None:
                    differing += 1
                    click.echo(change.describe())
            else:
                rejected += 1
                click.echo(f"dua policy diff: line {item.number}: {item.problem}", err=True)
    click.echo(
        f"{differing} of {events} events differ "
        f"(policy {before.policy_version} -> {after.policy_version})"
    )
    if rejected:
        raise click.exceptions.Exit(1)


policy.add_command(backtest)
