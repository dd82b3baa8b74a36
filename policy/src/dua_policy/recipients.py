"""The recipients the policy declares: the third parties data may be provided to (APPI).

Each recipient is declared for one destination kind (any kind but INTERNAL) under a name, the
`destination.name` an access event gives. A group service declared `joint_use` shares the data
under 共同利用 and is not a third party; `links_informative` marks a recipient that can link
informative data to a person (個人関連情報, APPI Art. 31); `basis` is how the provision is
lawful: the person's consent, or opt-out provision (APPI Art. 27(2)).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final

from dua_policy.document import Problems, child
from dua_schemas import DESTINATION_KINDS

RECIPIENT_KINDS: Final = tuple(k for k in DESTINATION_KINDS if k != "INTERNAL")
PROVISION_BASES: Final = ("consent", "opt_out")
_REQUIRED: Final = ("kind", "name")
_OPTIONAL: Final = ("address", "representative", "joint_use", "links_informative", "basis")


@dataclass(frozen=True, slots=True)
class Recipient:
    """A declared recipient of data: who it is, and what the law asks of a provision to it."""

    kind: str  # one of RECIPIENT_KINDS
    name: str  # the `destination.name` of the accesses that provide data to it
    address: str | None = None
    representative: str | None = None
    joint_use: bool = False  # a group service under 共同利用: not a third party
    links_informative: bool = False  # can link informative data to a person (APPI Art. 31)
    basis: str = "consent"  # one of PROVISION_BASES


def parse_recipients(problems: Problems, value: Any, path: str) -> tuple[Recipient, ...]:
    """The `recipients` list; a name is declared once per destination kind."""
    items = problems.sequence(value, path)
    if items is None:
        return ()
    recipients: list[Recipient] = []
    first_at: dict[tuple[str, str], str] = {}
    for index, item in enumerate(items):
        where = child(path, index)
        recipient = _parse_recipient(problems, item, where)
        if recipient is None:
            continue
        key = (recipient.kind, recipient.name)
        if key in first_at:
            problems.add(
                child(where, "name"),
                f"duplicate recipient {recipient.name!r} of kind {recipient.kind}"
                f" (first at {first_at[key]})",
            )
            continue
        first_at[key] = where
        recipients.append(recipient)
    return tuple(recipients)


def _parse_recipient(problems: Problems, item: Any, path: str) -> Recipient | None:
    mapping = problems.mapping(item, path)
    if mapping is None:
        return None
    problems.keys(mapping, path, _REQUIRED, _OPTIONAL)
    found = len(problems.found)
    kind = None
    if "kind" in mapping:
        kind = problems.choice(mapping["kind"], child(path, "kind"), RECIPIENT_KINDS, "kind")
    name = problems.text(mapping["name"], child(path, "name")) if "name" in mapping else None
    address = _optional_text(problems, mapping, "address", path)
    representative = _optional_text(problems, mapping, "representative", path)
    joint_use = _flag(problems, mapping, "joint_use", path)
    links = _flag(problems, mapping, "links_informative", path)
    basis: str | None = "consent"
    if "basis" in mapping:
        basis = problems.choice(mapping["basis"], child(path, "basis"), PROVISION_BASES, "basis")
    if joint_use and kind is not None and kind != "GROUP_SERVICE":
        problems.add(child(path, "joint_use"), "only a GROUP_SERVICE recipient is joint use")
    if len(problems.found) > found or kind is None or name is None or basis is None:
        return None
    return Recipient(kind, name, address, representative, joint_use, links, basis)


def _optional_text(problems: Problems, mapping: Mapping[str, Any], key: str, path: str) -> Any:
    return problems.text(mapping[key], child(path, key)) if key in mapping else None


def _flag(problems: Problems, mapping: Mapping[str, Any], key: str, path: str) -> bool:
    if key not in mapping:
        return False
    return bool(problems.boolean(mapping[key], child(path, key)))
