"""`dua run <process>`: the pipeline's long-running processes, in the foreground.

Each process lives in its own module and loads on first use, like the top-level commands:
register one by adding an entry to `RUN_COMMANDS`.
"""

from __future__ import annotations

import importlib

import click

# name -> (module, attribute of a click command, one-line help)
RUN_COMMANDS: dict[str, tuple[str, str, str]] = {
    "processor": (
        "dua.commands.processor_run",
        "processor",
        "Classify raw access events: tagged events, violations and rejects.",
    ),
    "sink": (
        "dua.commands.sink_run",
        "sink",
        "Write tagged events, violations and rejects into ClickHouse.",
    ),
    "notifier": (
        "dua.commands.notifier",
        "notifier",
        "Post active violations to a Slack-compatible webhook.",
    ),
}


class _LazyRunGroup(click.Group):
    def list_commands(self, ctx: click.Context) -> list[str]:  # noqa: ARG002 - click's signature
        return sorted(RUN_COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:  # noqa: ARG002
        entry = RUN_COMMANDS.get(cmd_name)
        if entry is None:
            return None
        module, attribute, _ = entry
        command = getattr(importlib.import_module(module), attribute)
        assert isinstance(command, click.Command)
        return command

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        rows = [(name, RUN_COMMANDS[name][2]) for name in self.list_commands(ctx)]
        with formatter.section("Processes"):
            formatter.write_dl(rows)


@click.group(cls=_LazyRunGroup)
def run() -> None:
    """Run one process of the pipeline until SIGTERM or Ctrl-C."""
