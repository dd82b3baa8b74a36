"""The demo's console login: one admin with subject access, its password kept (0600) in the
state directory so every `make demo` prints the same one."""

from __future__ import annotations

import os
import secrets
from datetime import UTC, datetime

from dua.console_wiring import console_engine
from dua.settings import Settings
from dua_compliance.console import Accounts, Role

DEMO_USER = "demo"


def demo_login(settings: Settings) -> tuple[str, str]:
    """(user, password) of the demo's console admin, created on first use."""
    path = settings.state_dir / "demo-console.password"
    engine = console_engine(settings)
    try:
        accounts = Accounts(engine)
        if accounts.user(DEMO_USER) is None or not path.exists():
            password = secrets.token_urlsafe(12)
            if accounts.user(DEMO_USER) is not None:  # the password file was removed
                raise FileNotFoundError(
                    f"{path} is gone but the console user {DEMO_USER} exists; remove "
                    f"{settings.state_dir / 'console.db'} to start the console's state afresh"
                )
            accounts.add_user(
                DEMO_USER,
                password,
                Role.ADMIN,
                subject_access=True,
                created_by="dua demo",
                now=datetime.now(UTC),
            )
            path.unlink(missing_ok=True)
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w") as out:
                out.write(password)
        return DEMO_USER, path.read_text().strip()
    finally:
        engine.dispose()
