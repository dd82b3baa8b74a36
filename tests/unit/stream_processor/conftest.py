"""Plain objects for the processor's unit tests: no broker, no Faust worker."""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pytest

from dua_policy import Engine, load_policy
from dua_schemas import WireCodec
from dua_schemas.avro_reader import NATIVE
from dua_schemas.testing import access_record
from dua_stream.processor import ProcessorTopics, RecordCodec
from dua_stream.processor.fastpath import NATIVE as STREAM_NATIVE

T0 = datetime(2026, 11, 1, tzinfo=UTC)
TOPICS = ProcessorTopics("raw", "consent", "tagged", "violations", "dlq")
CHANGELOGS = {"consent": "app-consent-changelog", "reidentification": "app-reid-changelog"}


@dataclass(frozen=True)
class Message:
    """A consumed message as the processor sees it."""

    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes | None


def use_backend(param: str, *, modules: tuple[str, ...] = ("dua_schemas_native",)) -> bool:
    """For fixtures parametrized over `native` and `python`: True for the native build.

    Skips the native case when a build of `modules` is not installed; under CI, where
    `make setup` builds them, fails instead, so those tests are never skipped there in silence.
    """
    installed = {"dua_schemas_native": NATIVE, "dua_stream_native": STREAM_NATIVE}
    missing = [name for name in modules if installed[name] is None]
    if param == "native" and missing:
        if os.environ.get("CI"):
            pytest.fail(f"{', '.join(missing)} not installed; `make setup` builds it")
        pytest.skip(f"{', '.join(missing)} not installed (`make setup` builds it with cargo)")
    return param == "native"


def access_event(**fields: Any) -> dict[str, Any]:
    """A compliant DataAccessEvent record at T0 (subject "s" * 64) unless `fields` say otherwise."""
    return access_record(**{"occurred_at": T0, "subject_id": "s" * 64, **fields})


def ad_event(subject: str) -> dict[str, Any]:
    """Targeted advertising on behavioural data: compliant unless the subject opted out."""
    return access_event(
        subject_id=subject,
        service="hotpepper-gourmet",
        purpose="marketing.targeted_advertising",
        elements=["user.behavior.browsing_history", "user.device.ad_id"],
        destination={"kind": "AD_PLATFORM", "name": "ad-network"},
    )


def opt_out(subject: str) -> dict[str, Any]:
    """A ConsentChange opting `subject` out of targeted ads."""
    return {
        "subject_id": subject,
        "occurred_at": T0,
        "targeting_opt_out": True,
        "publication_consent": False,
        "payroll_other_use_consent": False,
    }


@pytest.fixture(scope="session")
def wire() -> WireCodec:
    return WireCodec()


@pytest.fixture(scope="session")
def codec(wire: WireCodec) -> RecordCodec:
    return RecordCodec(wire)


@pytest.fixture(scope="session")
def engine() -> Engine:
    return Engine(load_policy())
