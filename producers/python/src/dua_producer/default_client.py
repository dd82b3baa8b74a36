"""The process's default audit client, for `@audited` call sites that name none.

Set once at start-up (`set_default_client(AuditClient(...))`); `testing.capture_events`
swaps in a capturing client for the length of a test.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING

from dua_schemas import ConfigError

if TYPE_CHECKING:
    from dua_producer.client import AuditClient

_lock = threading.Lock()
_default: AuditClient | None = None


def set_default_client(client: AuditClient | None) -> AuditClient | None:
    """Make `client` the default (None: no default); return the previous one."""
    global _default
    with _lock:
        previous, _default = _default, client
    return previous


def default_client() -> AuditClient:
    """The default client; `ConfigError` when the service never set one."""
    client = _default
    if client is None:
        raise ConfigError(
            "no audit client: call dua_producer.set_default_client(AuditClient(...)) at "
            "start-up, or pass client= to @audited"
        )
    return client
