"""The APPI provision decision: whether an access provides personal data to a third party
(APPI Art. 27, recorded under Art. 29 and its Rules Art. 20), and whether it provides
informative data to a recipient that can link it to the person (Art. 31).

Pure, and compiled like the rules: the destination's part is decided once per event shape
(`for_shape`), the element list's once per element plan (`for_elements`), which leaves one
question per event, asked only in an Art. 31 case: was the person's
`third_party_link_consent` in force when the access happened? The record itself (who, what,
when, to whom) is the tagged event that carries the decision.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final, NamedTuple

from dua_policy.model import Policy
from dua_policy.recipients import Recipient
from dua_policy.verdict import NO_PROVISION_RECORD, TaggedElement

LINK_CONSENT: Final = "third_party_link_consent"
Provision = Mapping[str, Any]  # the TaggedAccessEvent's `provision` record
NO_PROVISION: Final[Provision] = NO_PROVISION_RECORD  # not a provision to a third party


class ShapeProvision(NamedTuple):
    """A shape's part of the decision: a third party, who it is as far as the policy says."""

    recipient: Recipient | None  # None: not declared for the destination's kind


class Provisions(NamedTuple):
    """An element plan's decision: the record without and with the link consent in force
    (the same object when the consent does not matter)."""

    without_consent: Provision
    with_consent: Provision


UNPROVIDED: Final = Provisions(NO_PROVISION, NO_PROVISION)


class ProvisionDecider:
    """The provision decisions of one policy (its recipients looked up once)."""

    __slots__ = ("_recipients",)

    def __init__(self, policy: Policy) -> None:
        self._recipients: dict[tuple[str, str], Recipient] = {
            (r.kind, r.name): r for r in policy.recipients
        }

    def for_shape(self, kind: str, recipient_name: str | None) -> ShapeProvision | None:
        """None when the destination is no third party: INTERNAL, or a group service
        declared joint use (共同利用); `recipient_name` is the declared recipient's name."""
        if kind == "INTERNAL":
            return None
        recipient = self._recipients.get((kind, recipient_name)) if recipient_name else None
        if kind == "GROUP_SERVICE" and recipient is not None and recipient.joint_use:
            return None
        return ShapeProvision(recipient)

    def for_elements(
        self, shape: ShapeProvision | None, tagged: tuple[TaggedElement, ...]
    ) -> Provisions:
        """The records for an element list sent to the shape's destination."""
        if shape is None:
            return UNPROVIDED
        recipient = shape.recipient
        linkable = (
            recipient is not None
            and recipient.links_informative
            and any(e.category == "informative" for e in tagged)
        )
        record = {
            "third_party": True,
            "recipient_registered": recipient is not None,
            "recipient_address": recipient.address if recipient else None,
            "recipient_representative": recipient.representative if recipient else None,
            # an undeclared recipient has no declared basis: consent is what the law requires
            "basis": recipient.basis if recipient else "consent",
            "linkable": linkable,
            "link_consent": False,
        }
        if not linkable:
            return Provisions(record, record)
        return Provisions(record, {**record, "link_consent": True})
