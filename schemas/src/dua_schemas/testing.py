"""Records for tests of code that consumes the contracts (processors, sinks, tools).

One builder, so every test suite starts from the same compliant event and states only what
it changes.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any


def access_record(**fields: Any) -> dict[str, Any]:
    """A compliant DataAccessEvent in record form (fresh ids, now), with `fields` replaced.

    Messaging service reading an account id and a message to deliver it: compliant under the
    default policy. Nested records are fresh dicts, so a test may change them in place.
    """
    event: dict[str, Any] = {
        "event_id": str(uuid.uuid4()),
        "occurred_at": datetime.now(UTC),
        "service": "zexy-enmusubi",
        "actor": {"kind": "SERVICE", "id": "messaging-api"},
        "subject_id": uuid.uuid4().hex * 2,
        "elements": ["user.account.id", "user.content.message"],
        "purpose": "service.user_messaging",
        "operation": "READ",
        "processing": "RAW",
        "destination": {"kind": "INTERNAL", "name": None},
        "origin_service": None,
        "consent": {
            "targeting_opt_out": False,
            "publication_consent": False,
            "payroll_other_use_consent": False,
        },
        "record_count": 1,
        "trace_id": None,
        "attributes": {},
    }
    event.update(fields)
    return event
