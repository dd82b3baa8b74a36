"""Console users, their passwords (argon2), sessions and login throttling."""

from __future__ import annotations

import hashlib
import re
import secrets
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import Engine, delete, func, insert, select

from dua_compliance.console.errors import InvalidInput, LoginRefused
from dua_compliance.console.roles import Role, User
from dua_compliance.console.schema import login_failures, sessions, users
from dua_compliance.console.store import utc

NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$")
MIN_PASSWORD = 12
# At most this many failed logins per user name in the window; then the name waits.
MAX_FAILURES = 5
FAILURE_WINDOW = timedelta(minutes=15)

_HASHER = PasswordHasher()
# Compared against when the name is unknown, so both paths take an argon2 verification.
_DUMMY_HASH = _HASHER.hash("not a password of anyone")


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class Accounts:
    """Users and sessions in the console's database."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def add_user(
        self,
        name: str,
        password: str,
        role: Role,
        *,
        subject_access: bool,
        created_by: str,
        now: datetime,
    ) -> User:
        """Create a user; the password is stored as an argon2id hash only."""
        if not NAME.match(name):
            raise InvalidInput("a user name is 1-64 letters, digits, '.', '_', '@' or '-'")
        if len(password) < MIN_PASSWORD:
            raise InvalidInput(f"a password has at least {MIN_PASSWORD} characters")
        if self.user(name) is not None:
            raise InvalidInput(f"user {name} exists already")
        with self.engine.begin() as connection:
            connection.execute(
                insert(users).values(
                    name=name,
                    password_hash=_HASHER.hash(password),
                    role=role.value,
                    subject_access=subject_access,
                    created_at=now,
                    created_by=created_by,
                )
            )
        return User(name, role, subject_access)

    def user(self, name: str) -> User | None:
        with self.engine.connect() as connection:
            row = connection.execute(select(users).where(users.c.name == name)).first()
        return None if row is None else User(row.name, Role(row.role), bool(row.subject_access))

    def all_users(self) -> list[tuple[User, datetime, str]]:
        """Every user with when and by whom it was created."""
        with self.engine.connect() as connection:
            rows = connection.execute(select(users).order_by(users.c.name))
            return [
                (
                    User(r.name, Role(r.role), bool(r.subject_access)),
                    utc(r.created_at) or r.created_at,
                    r.created_by,
                )
                for r in rows
            ]

    def login(self, name: str, password: str, *, now: datetime) -> User:
        """The user whose password this is; `LoginRefused` otherwise or when throttled."""
        name = name[:64]
        with self.engine.connect() as connection:
            failures = connection.execute(
                select(func.count())
                .select_from(login_failures)
                .where(login_failures.c.user_name == name)
                .where(login_failures.c.at > now - FAILURE_WINDOW)
            ).scalar_one()
            row = connection.execute(select(users).where(users.c.name == name)).first()
        if failures >= MAX_FAILURES:
            raise LoginRefused("too many failed logins: try again in 15 minutes")
        try:
            _HASHER.verify(row.password_hash if row else _DUMMY_HASH, password)
        except (VerificationError, InvalidHashError):
            row = None
        with self.engine.begin() as connection:
            if row is None:
                connection.execute(insert(login_failures).values(user_name=name, at=now))
            else:
                connection.execute(delete(login_failures).where(login_failures.c.user_name == name))
        if row is None:
            raise LoginRefused("wrong user name or password")
        return User(row.name, Role(row.role), bool(row.subject_access))

    def open_session(self, user: User, *, now: datetime, ttl: timedelta) -> tuple[str, str]:
        """A new session: (cookie token, CSRF token). Only the token's hash is stored."""
        token = secrets.token_urlsafe(32)
        csrf = secrets.token_urlsafe(32)
        with self.engine.begin() as connection:
            connection.execute(delete(sessions).where(sessions.c.expires_at <= now))
            connection.execute(
                insert(sessions).values(
                    token_hash=_token_hash(token),
                    user_name=user.name,
                    csrf_token=csrf,
                    expires_at=now + ttl,
                )
            )
        return token, csrf

    def session(self, token: str, *, now: datetime) -> tuple[User, str] | None:
        """The user and CSRF token of a live session."""
        with self.engine.connect() as connection:
            row = connection.execute(
                select(sessions).where(sessions.c.token_hash == _token_hash(token))
            ).first()
        if row is None or (utc(row.expires_at) or now) <= now:
            return None
        user = self.user(row.user_name)
        return None if user is None else (user, row.csrf_token)

    def close_session(self, token: str) -> None:
        with self.engine.begin() as connection:
            connection.execute(delete(sessions).where(sessions.c.token_hash == _token_hash(token)))
