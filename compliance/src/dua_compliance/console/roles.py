"""Who may do what in the console: three roles, ranked, and the separate subject permission."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Role(StrEnum):
    """Auditors read; analysts also triage; admins also manage users."""

    AUDITOR = "auditor"
    ANALYST = "analyst"
    ADMIN = "admin"

    @property
    def rank(self) -> int:
        return _RANK[self]


_RANK = {Role.AUDITOR: 1, Role.ANALYST: 2, Role.ADMIN: 3}


class Permission(StrEnum):
    """One capability a page or an action needs."""

    READ = "read"  # inbox, explorer, events, overview, exports
    TRIAGE = "triage"  # change an issue's state
    READ_AUDIT_LOG = "read_audit_log"
    MANAGE_USERS = "manage_users"
    SUBJECT = "subject"  # look a person up; granted per user, not by role


_BY_ROLE: dict[Role, frozenset[Permission]] = {
    Role.AUDITOR: frozenset({Permission.READ, Permission.READ_AUDIT_LOG}),
    Role.ANALYST: frozenset({Permission.READ, Permission.TRIAGE}),
    Role.ADMIN: frozenset(
        {Permission.READ, Permission.TRIAGE, Permission.READ_AUDIT_LOG, Permission.MANAGE_USERS}
    ),
}


@dataclass(frozen=True, slots=True)
class User:
    """A signed-in console user."""

    name: str
    role: Role
    subject_access: bool

    def can(self, permission: Permission) -> bool:
        if permission == Permission.SUBJECT:
            return self.subject_access
        return permission in _BY_ROLE[self.role]

    def may_grant(self, role: Role, *, subject_access: bool) -> bool:
        """Nobody grants a role above their own, nor a subject permission they lack."""
        return (
            self.can(Permission.MANAGE_USERS)
            and role.rank <= self.role.rank
            and (self.subject_access or not subject_access)
        )
