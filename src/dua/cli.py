"""The `dua` command. Subcommands live in `dua.commands.<name>` and load on first use, so
`dua --help` stays fast and never imports Faust, chDB or the JVM tooling."""

from __future__ import annotations

import sys
from typing import Any

import click

from dua.lazy_group import LazyGroup
from dua_schemas import DuaError

# name -> (module, attribute, one-line help shown by `dua --help`)
COMMANDS: dict[str, tuple[str, str, str]] = {
    "demo": ("dua.commands.demo", "demo", "Run the whole system locally with simulated traffic."),
    "simulate": ("dua.commands.simulate", "simulate", "Send realistic traffic through the SDK."),
    "version": ("dua.commands.version", "version", "Print the versions of dua and its parts."),
    "kafka": ("dua.commands.kafka", "kafka", "Run the local Apache Kafka broker."),
    "classify": ("dua.commands.classify", "classify", "Classify access events against the policy."),
    "policy": ("dua.commands.policy", "policy", "Check, show and compare policy files."),
    "run": ("dua.commands.run", "run", "Run a pipeline process: processor, sink or notifier."),
    "db": ("dua.commands.db", "db", "Apply and inspect the ClickHouse audit schema."),
    "query": ("dua.commands.query", "query", "Query the audit tables (SQL or saved questions)."),
    "subject": ("dua.commands.subject", "subject", "List every access to one person's data."),
    "report": ("dua.commands.report", "report", "Summarise accesses and violations (HTML too)."),
    "console": ("dua.commands.console", "console", "Serve the compliance console (web)."),
    "datamap": ("dua.commands.datamap", "datamap", "Observed data map and drift from the policy."),
    "anomalies": ("dua.commands.anomalies", "anomalies", "Unusual access volumes per hour."),
    "records": ("dua.commands.records", "records", "Record of processing; APPI provision records."),
}


class _TopLevel(LazyGroup):
    commands_table = COMMANDS


@click.group(cls=_TopLevel, context_settings={"help_option_names": ["-h", "--help"]})
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
