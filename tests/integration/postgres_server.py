"""A real PostgreSQL server for the tests: Debian's `postgresql` binaries, started in a
temporary directory on a free loopback port (as the `postgres` user when we are root, since
the server refuses to run as root), stopped at the end of the session."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

SERVER_USER = "postgres"


def _bindir() -> Path | None:
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"))
    if found:
        return found[-1].parent
    initdb = shutil.which("initdb")
    return Path(initdb).parent if initdb else None


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _as_server_user(command: list[str]) -> list[str]:
    if os.geteuid() != 0:
        return command
    return ["runuser", "-u", SERVER_USER, "--", *command]


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[str]:
    """`host:port` of a PostgreSQL server only this test session uses (trust auth, user dua)."""
    bindir = _bindir()
    if bindir is None:
        message = "PostgreSQL is not installed (make setup installs Debian's postgresql)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    directory = Path(tempfile.mkdtemp(prefix="dua-pg-"))
    if os.geteuid() == 0:
        shutil.chown(directory, SERVER_USER)
    data, port = directory / "data", _free_port()
    subprocess.run(
        _as_server_user([str(bindir / "initdb"), "-D", str(data), "-U", "dua", "--auth=trust"]),
        check=True,
        capture_output=True,
    )
    options = f"-p {port} -k {directory} -c listen_addresses=127.0.0.1 -c fsync=off"
    ctl = [str(bindir / "pg_ctl"), "-D", str(data), "-l", str(directory / "server.log")]
    subprocess.run(
        _as_server_user([*ctl, "-o", options, "-w", "start"]), check=True, capture_output=True
    )
    try:
        yield f"127.0.0.1:{port}"
    finally:
        stop = _as_server_user([*ctl, "-m", "fast", "-w", "stop"])
        subprocess.run(stop, check=False, capture_output=True)
        shutil.rmtree(directory, ignore_errors=True)


@pytest.fixture
def postgres_url(postgres_server: str) -> str:
    """A SQLAlchemy URL of a fresh, empty database on the session's server."""
    name = f"console_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(f"postgresql://dua@{postgres_server}/postgres", autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    return f"postgresql+psycopg://dua@{postgres_server}/{name}"
