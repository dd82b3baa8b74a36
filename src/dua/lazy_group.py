"""A click group whose subcommands live in their own modules and load on first use, so
`--help` stays fast and never imports Faust, chDB or the JVM tooling."""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from typing import ClassVar

import click

# name -> (module, attribute of a click command, one-line help shown by --help)
CommandTable = Mapping[str, tuple[str, str, str]]


class LazyGroup(click.Group):
    """Subclass with `commands_table` (and optionally `section`) set."""

    commands_table: ClassVar[CommandTable] = {}
    section: ClassVar[str] = "Commands"

    def list_commands(self, ctx: click.Context) -> list[str]:  # noqa: ARG002 - click's signature
        return sorted(self.commands_table)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:  # noqa: ARG002
        entry = self.commands_table.get(cmd_name)
        if entry is None:
            return None
        module, attribute, _ = entry
        command = getattr(importlib.import_module(module), attribute)
        assert isinstance(command, click.Command)
        return command

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        rows = [(name, self.commands_table[name][2]) for name in self.list_commands(ctx)]
        with formatter.section(self.section):
            formatter.write_dl(rows)
