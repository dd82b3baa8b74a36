"""`dua classify`: tag access events and list their violations, one JSON line per event."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import IO

import click

from dua.event_input import FORMATS, Access, Consent, InputFormat, read_items
from dua.settings import load_settings
from dua_policy import Engine, MemoryState, Policy, load_policy


def resolve_policy(path: Path | None) -> Policy:
    """`--policy`, else the `DUA_POLICY` setting, else the shipped default."""
    return load_policy(path if path is not None else load_settings().policy)


def open_input(path: Path | None) -> IO[bytes]:
    """The input file, or standard input."""
    return path.open("rb") if path is not None else sys.stdin.buffer


@click.command()
@click.option(
    "--policy",
    "policy_path",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Policy YAML (default: DUA_POLICY, else the shipped policy).",
)
@click.option(
    "--input",
    "input_path",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Events to read (default: standard input).",
)
@click.option(
    "--format",
    "input_format",
    type=click.Choice(FORMATS),
    default="jsonl",
    show_default=True,
    help='JSON lines (`"type": "consent"` lines update consent) or an Avro container file.',
)
def classify(policy_path: Path | None, input_path: Path | None, input_format: InputFormat) -> None:
    """Classify access events: one JSON line per event on standard output, in input order.

    Consent lines produce no output; they update the consent state later lines are judged
    with. A line that is not a valid event is reported on standard error with its line
    number, the others are still classified, and the exit status is 1.
    """
    engine = Engine(resolve_policy(policy_path))
    state = MemoryState()
    rejected = 0
    unit = "record" if input_format == "avro" else "line"
    out = sys.stdout
    with open_input(input_path) as stream:
        for item in read_items(stream, input_format):
            if isinstance(item, Access):
                verdict = engine.classify(item.event, state)
                out.write(json.dumps(verdict.to_json(), ensure_ascii=False) + "\n")
            elif isinstance(item, Consent):
                engine.apply_consent(item.change, state)
            else:
                rejected += 1
                click.echo(f"dua classify: {unit} {item.number}: {item.problem}", err=True)
    out.flush()
    if rejected:
        raise click.exceptions.Exit(1)
