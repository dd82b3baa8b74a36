"""The SCRAM passwords of a secured local broker, kept in one file only its owner can read.

They are generated once per broker (`secrets`), stored beside its data in `credentials.json`
with mode 0600, and never printed: `repr()` of `Credentials` names the users, not the passwords.
"""

from __future__ import annotations

import json
import os
import secrets
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from dua.kafka.errors import BrokerError

PRIVATE_MODE = 0o600
# 32 bytes of randomness; URL-safe characters need no quoting in JAAS or `--add-scram` syntax.
PASSWORD_BYTES = 32


@dataclass(frozen=True, slots=True)
class Credentials:
    """The SASL mechanism of a broker and the password of each of its users."""

    mechanism: str
    passwords: Mapping[str, str] = field(repr=False)

    @property
    def users(self) -> tuple[str, ...]:
        return tuple(self.passwords)

    def password(self, user: str) -> str:
        """The password of `user`; a `BrokerError` naming the known users if it has none."""
        try:
            return self.passwords[user]
        except KeyError:
            known = ", ".join(self.passwords) or "none"
            raise BrokerError(
                f"the local broker has no credentials for user {user!r} (known: {known})"
            ) from None

    def client_config(self, user: str) -> dict[str, str]:
        """librdkafka settings that log in as `user` over SASL_PLAINTEXT."""
        return {
            "security.protocol": "SASL_PLAINTEXT",
            "sasl.mechanism": self.mechanism,
            "sasl.username": user,
            "sasl.password": self.password(user),
        }


def read_credentials(path: Path) -> Credentials | None:
    """The credentials stored at `path`, or None when there are none."""
    try:
        stored = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as exc:
        raise BrokerError(f"{path} is unreadable ({exc})") from None
    try:
        passwords = {str(user): str(secret) for user, secret in stored["passwords"].items()}
        return Credentials(mechanism=str(stored["mechanism"]), passwords=passwords)
    except (KeyError, AttributeError, TypeError) as exc:
        raise BrokerError(f"{path} lacks {exc}; purge the broker to start afresh") from None


def ensure_credentials(path: Path, users: Iterable[str], mechanism: str) -> Credentials:
    """The stored credentials, with a fresh password for every user that had none yet."""
    current = read_credentials(path)
    if current is not None and current.mechanism != mechanism:
        raise BrokerError(
            f"{path} holds {current.mechanism} credentials, not {mechanism}; purge the broker"
        )
    passwords = dict(current.passwords) if current is not None else {}
    missing = [user for user in dict.fromkeys(users) if user not in passwords]
    if current is not None and not missing:
        return current
    passwords.update({user: secrets.token_urlsafe(PASSWORD_BYTES) for user in missing})
    stored = {"mechanism": mechanism, "passwords": passwords}
    write_private(path, json.dumps(stored, indent=2) + "\n")
    return Credentials(mechanism=mechanism, passwords=passwords)


def write_private(path: Path, text: str) -> None:
    """Write `text` atomically into a file that only its owner can read (mode 0600).

    The file is created with that mode, so it is never readable by others, not even briefly.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".partial")
    partial.unlink(missing_ok=True)
    descriptor = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_MODE)
    with os.fdopen(descriptor, "w", encoding="utf-8") as output:
        output.write(text)
    partial.replace(path)
