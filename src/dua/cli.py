"""The `dua` command. Subcommands live in `dua.commands.<name>` and load on first use, so
`dua --help` stays fast and never imports Faust, chDB or the JVM tooling."""

from __future__ import annotations

import importlib
import sys
from typing import Any

import click

from dua_schemas import DuaError

# name -> (module, attribute, one-line help shown by `dua --help`)
COMMANDS: dict[str, tuple[str, str, str]] = {
    "demo": ("dua.commands.demo", "demo", "Run the whole system locally with simulated traffic."),
    "simulate": ("dua.commands.simulate", "simulate", "Send realistic traffic through the SDK."),
    "version": ("dua.commands.version", "version", "Print the versions of dua and its parts."),
    "kafka": ("dua.commands.kafka", "kafka", "Run the local Apache Kafka broker."),
    "classify": ("dua.commands.classify", "classify", "Classify access events against the policy."),
    "policy": ("dua.commands.policy", "policy", "Check, show and compare policy files."),
    "run": ("dua.commands.run", "run", "Run a pipeline process (sink, …) in the foreground."),
    "db": ("dua.commands.db", "db", "Apply and inspect the ClickHouse audit schema."),
    "query": ("dua.commands.query", "query", "Query the audit tables (SQL or saved questions)."),
    "subject": ("dua.commands.subject", "subject", "List every access to one person's data."),
    "report": ("dua.commands.report", "report", "Summarise accesses and violations (HTML too)."),
}


class LazyGroup(click.Group):
    """A click group whose subcommands are imported only when invoked."""

    def list_commands(self, ctx: click.Context) -> list[str]:  # noqa: ARG002 - click's signature
        return sorted(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:  # noqa: ARG002
        entry = COMMANDS.get(cmd_name)
        if entry is None:
            return None
        module, attribute, _ = entry
        command = getattr(importlib.import_module(module), attribute)
        assert isinstance(command, click.Command)
        return command

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        rows = [(name, COMMANDS[name][2]) for name in self.list_commands(ctx)]
        with formatter.section("Commands"):
            formatter.write_dl(rows)


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
def cli() -> None:
    """dua — audits what services do with personal data against the published policy."""


def main(argv: list[str] | None = None) -> Any:
    """Entry point: our own errors become one clear line and exit status 2, not a traceback."""
    try:
        return cli.main(args=argv, standalone_mode=False)
    except click.exceptions.Abort:
        click.echo("aborted", err=True)
        sys.exit(130)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)
    except DuaError as exc:
        click.echo(f"dua: error: {exc}", err=True)
        sys.exit(2)
