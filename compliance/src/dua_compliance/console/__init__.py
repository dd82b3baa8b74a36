"""The compliance console: violation inbox and triage, audit explorer, subject view, overview,
users and roles, and the auditors' log, served as one web application.

- `build_app(reader, engine, config)`: the ASGI application.
- `open_engine(url)`: the console's database (SQLite or PostgreSQL), migrated.
- `Accounts`, `Role`: console users (`dua console user add`).
"""

from dua_compliance.console.accounts import Accounts
from dua_compliance.console.config import ConsoleConfig
from dua_compliance.console.errors import ConsoleError, InvalidInput, LoginRefused, NotFound
from dua_compliance.console.issues import Announce, Issue, fingerprint
from dua_compliance.console.records_inputs import RecordsInputs
from dua_compliance.console.roles import Permission, Role, User
from dua_compliance.console.store import TriageStore, open_engine
from dua_compliance.console.triage import Action, State
from dua_compliance.console.web import build_app

__all__ = [
    "Accounts",
    "Action",
    "Announce",
    "ConsoleConfig",
    "ConsoleError",
    "InvalidInput",
    "Issue",
    "LoginRefused",
    "NotFound",
    "Permission",
    "RecordsInputs",
    "Role",
    "State",
    "TriageStore",
    "User",
    "build_app",
    "fingerprint",
    "open_engine",
]
