"""`dua records <kind>`: the records privacy law asks for, derived from what services did.

Each record kind lives in its own module and loads on first use: register one by adding an
entry to `RECORD_COMMANDS`.
"""

from __future__ import annotations

import click

from dua.lazy_group import LazyGroup

# name -> (module, attribute of a click command, one-line help)
RECORD_COMMANDS: dict[str, tuple[str, str, str]] = {
    "ropa": (
        "dua.commands.records_ropa",
        "ropa",
        "Record of processing activities (GDPR Art. 30(1)) from the policy and the data map.",
    ),
    "appi": (
        "dua.commands.records_appi",
        "appi",
        "APPI third-party provision and confirmation records (Art. 29 and 31).",
    ),
}


class _LazyRecordsGroup(LazyGroup):
    commands_table = RECORD_COMMANDS
    section = "Records"


@click.group(cls=_LazyRecordsGroup)
def records() -> None:
    """Print the records privacy law asks for, built from the audit trail."""
