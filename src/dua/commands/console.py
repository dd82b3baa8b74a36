"""`dua console`: serve the compliance console; `dua console user add`: create its users."""

from __future__ import annotations

import sys
from datetime import UTC, datetime

import click

from dua.console_wiring import console_app, console_engine
from dua.read_path import open_reader
from dua.settings import Settings, load_settings
from dua_compliance.console import Accounts, Role


@click.group(invoke_without_command=True)
@click.pass_context
def console(ctx: click.Context) -> None:
    """Serve the compliance console on DUA_CONSOLE_HOST:DUA_CONSOLE_PORT: violation inbox and
    triage, audit explorer, subject view, overview, users, and the auditors' log."""
    if ctx.invoked_subcommand is not None:
        return
    serve(load_settings())


def serve(settings: Settings, banner: str = "") -> None:
    """Serve the console in the foreground until interrupted (also what `dua demo --console`
    ends with)."""
    import uvicorn  # noqa: PLC0415 - only the server needs it

    engine = console_engine(settings)
    reader = open_reader(settings)
    try:
        app = console_app(settings, reader, engine)
        click.echo(
            f"compliance console on http://{settings.console_host}:{settings.console_port}/ "
            f"(reading {reader.description}){banner}",
            err=True,
        )
        # No access log: a URL can carry a filter, and the console keeps its own audit log.
        uvicorn.run(
            app,
            host=settings.console_host,
            port=settings.console_port,
            log_level="warning",
            access_log=False,
        )
    finally:
        reader.close()
        engine.dispose()


@console.group()
def user() -> None:
    """Manage the console's users."""


@user.command("add")
@click.argument("name")
@click.option(
    "--role", type=click.Choice([r.value for r in Role]), required=True, help="What they may do."
)
@click.option("--subject-access", is_flag=True, help="Also allow looking subjects up.")
@click.option(
    "--password-stdin", is_flag=True, help="Read the password from standard input (one line)."
)
def add(name: str, role: str, subject_access: bool, password_stdin: bool) -> None:
    """Create the console user NAME (the password is asked for, or read from stdin)."""
    if password_stdin:
        password = sys.stdin.readline().rstrip("\n")
    else:
        password = click.prompt("password", hide_input=True, confirmation_prompt=True)
    engine = console_engine(load_settings())
    try:
        Accounts(engine).add_user(
            name,
            password,
            Role(role),
            subject_access=subject_access,
            created_by="cli",
            now=datetime.now(UTC),
        )
    finally:
        engine.dispose()
    click.echo(
        f"console user {name} added as {role}" + (" with subject access" if subject_access else "")
    )
