"""`dua run <process>`: the pipeline's long-running processes, in the foreground.

Each process lives in its own module and loads on first use, like the top-level commands:
register one by adding an entry to `RUN_COMMANDS`.
"""

from __future__ import annotations

import click

from dua.lazy_group import LazyGroup

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


class _LazyRunGroup(LazyGroup):
    commands_table = RUN_COMMANDS
    section = "Processes"


@click.group(cls=_LazyRunGroup)
def run() -> None:
    """Run one process of the pipeline until SIGTERM or Ctrl-C."""
