"""The SDK, processor and sink against Confluent's schema registry (`DUA_SCHEMA_REGISTRY_URL`),
the image docker-compose.yml runs, and a backward-incompatible schema change refused by it.

Needs a Docker engine (testcontainers; the registry joins the host's network to reach the
session's broker on 127.0.0.1); skipped with the reason otherwise. Unit tests keep the
in-memory registry (`tests/unit/schemas/test_wire.py`).
"""

from __future__ import annotations

import copy
import json
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from confluent_kafka import Consumer, TopicPartition

from dua.kafka import free_ports
from dua_schemas import WireCodec

from .pipeline_harness import running_pipeline

pytestmark = [pytest.mark.integration, pytest.mark.docker]

REPO = Path(__file__).resolve().parents[2]
COMPOSE = yaml.safe_load((REPO / "docker-compose.yml").read_text())
IMAGE = COMPOSE["services"]["schema-registry"]["image"]
CONFLUENT_MAGIC = b"\x00"
CONTENT_TYPE = "application/vnd.schemaregistry.v1+json"


@pytest.fixture(scope="module")
def registry_url(request: pytest.FixtureRequest) -> Iterator[str]:
    """A cp-schema-registry container storing its schemas in the session's Kafka."""
    try:
        import docker  # type: ignore[import-untyped]  # noqa: PLC0415

        docker.from_env().ping()
    except Exception as exc:  # any failure means the same: no engine to use
        pytest.skip(f"no Docker engine answers ({type(exc).__name__}); the registry needs one")
    # Only now: without an engine the session's broker need not start for this module.
    kafka_bootstrap: str = request.getfixturevalue("kafka_bootstrap")
    from testcontainers.core.container import DockerContainer  # noqa: PLC0415
    from testcontainers.core.wait_strategies import LogMessageWaitStrategy  # noqa: PLC0415

    (port,) = free_ports(1)
    servers = ",".join(f"PLAINTEXT://{host}" for host in kafka_bootstrap.split(","))
    container = (
        DockerContainer(IMAGE)
        .with_kwargs(network_mode="host")
        .with_envs(
            SCHEMA_REGISTRY_HOST_NAME="127.0.0.1",
            SCHEMA_REGISTRY_LISTENERS=f"http://127.0.0.1:{port}",
            SCHEMA_REGISTRY_KAFKASTORE_BOOTSTRAP_SERVERS=servers,
            SCHEMA_REGISTRY_KAFKASTORE_TOPIC=f"_schemas_{uuid.uuid4().hex[:8]}",
            SCHEMA_REGISTRY_KAFKASTORE_TOPIC_REPLICATION_FACTOR="1",
            SCHEMA_REGISTRY_SCHEMA_COMPATIBILITY_LEVEL="backward",
        )
        .waiting_for(LogMessageWaitStrategy("Server started, listening for requests"))
    )
    with container:
        yield f"http://127.0.0.1:{port}"


def _request(url: str, body: dict[str, Any] | None = None) -> tuple[int, Any]:
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, headers={"Content-Type": CONTENT_TYPE})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return int(response.status), json.loads(response.read())
    except urllib.error.HTTPError as error:
        return int(error.code), json.loads(error.read() or b"{}")


def _register(registry_url: str, subject: str, schema: dict[str, Any]) -> tuple[int, Any]:
    return _request(f"{registry_url}/subjects/{subject}/versions", {"schema": json.dumps(schema)})


def _first_raw_message(bootstrap: str, topic: str) -> bytes:
    consumer = Consumer(
        {"bootstrap.servers": bootstrap, "group.id": f"registry-{uuid.uuid4().hex[:8]}"}
    )
    try:
        consumer.assign([TopicPartition(topic, p, 0) for p in range(2)])
        message = consumer.poll(30)
        assert message is not None, f"nothing on {topic}"
        return bytes(message.value() or b"")
    finally:
        consumer.close()


def test_sdk_processor_and_sink_frame_with_the_registry_and_land_everything(
    registry_url: str, kafka_bootstrap: str, tmp_path: Path
) -> None:
    """With DUA_SCHEMA_REGISTRY_URL everywhere: messages are framed 00 + schema id, the
    subjects are registered, and every emitted event lands once."""
    try:
        import confluent_kafka.schema_registry  # noqa: F401, PLC0415
    except ImportError as exc:
        pytest.skip(
            f"confluent-kafka's registry client does not import ({exc}): the services "
            "need confluent-kafka[schemaregistry]"
        )
    run_id = uuid.uuid4().hex[:12]
    settings = {"schema_registry_url": registry_url}
    with running_pipeline(kafka_bootstrap, tmp_path, extra_settings=settings) as pipeline:
        result = pipeline.simulate(run_id, 200.0, 3.0)
        landed = pipeline.wait_landed(run_id, result.emitted)
        raw = _first_raw_message(kafka_bootstrap, pipeline.settings.topic_raw)
    status, subjects = _request(f"{registry_url}/subjects")
    assert status == 200
    assert {"dua.audit.DataAccessEvent", "dua.audit.TaggedAccessEvent"} <= set(subjects)
    assert raw[:1] == CONFLUENT_MAGIC
    assert landed.events == result.emitted
    assert landed.rows == landed.events


def test_a_backward_incompatible_schema_change_is_refused(registry_url: str) -> None:
    """A new required field (no default) cannot read the data written before it: 409, while
    the same field with a default is accepted as the subject's next version."""
    subject = f"dua.audit.DataAccessEvent-{uuid.uuid4().hex[:8]}"
    current = WireCodec().catalog.latest("DataAccessEvent").schema
    status, first = _register(registry_url, subject, current)
    assert status == 200, first
    breaking = copy.deepcopy(current)
    breaking["fields"].append({"name": "retention_class", "type": "string"})
    status, refused = _register(registry_url, subject, breaking)
    assert status == 409, refused
    compatible = copy.deepcopy(current)
    compatible["fields"].append({"name": "retention_class", "type": "string", "default": ""})
    status, accepted = _register(registry_url, subject, compatible)
    assert status == 200, accepted
    assert accepted["id"] != first["id"]
    status, versions = _request(f"{registry_url}/subjects/{subject}/versions")
    assert versions == [1, 2]
