"""A secured local broker (SASL/SCRAM + ACLs): each principal works where it belongs, nowhere else.

The module starts its own secured `LocalBroker` (the session's shared broker is plaintext),
grants the pipeline's ACLs and puts one message on every topic; each test then logs in as one
principal with real confluent-kafka clients. Every wait is bounded by an explicit timeout.
"""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from confluent_kafka import Consumer, KafkaError, KafkaException, Message, Producer

# The documented path; confluent_kafka.admin re-exports these without an `__all__`.
from confluent_kafka.admin import AdminClient, NewTopic  # type: ignore[attr-defined]

from dua.kafka import (
    BrokerSecurity,
    LocalBroker,
    cache_root,
    client_config,
    ensure_topics,
    grant_acls,
    pipeline_grants,
    resolve_jars,
)
from dua.kafka.credentials import read_credentials
from dua.settings import Settings, load_settings

pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(
        not (shutil.which("java") and shutil.which("mvn")), reason="needs java and mvn on PATH"
    ),
]

DUA = Path(sys.executable).with_name("dua")
START_TIMEOUT_S = 60.0
CLIENT_TIMEOUT_S = 15.0


@dataclass(frozen=True)
class Secured:
    """The module's secured broker, its settings (topic names) and how to log in as anyone."""

    broker: LocalBroker
    bootstrap: str
    settings: Settings

    def login(self, user: str, **extra: Any) -> dict[str, Any]:
        """Client settings of `user` with the password the broker stored for it."""
        return {**self.broker.client_config(user), "bootstrap.servers": self.bootstrap, **extra}


@pytest.fixture(scope="module")
def secured(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Secured]:
    """A secured broker with the pipeline's topics, users and ACLs, one message on each topic."""
    state = tmp_path_factory.mktemp("secured")
    settings = load_settings(
        state_dir=state,
        kafka_bootstrap=None,
        kafka_security_protocol=None,
        kafka_sasl_username=None,
        kafka_sasl_password=None,
        topic_partitions=1,
    )
    jars = resolve_jars(settings.kafka_version, cache_root(os.environ))
    broker = LocalBroker(state / "kafka", security=BrokerSecurity())
    record = broker.start(jars, heap="256m", timeout=START_TIMEOUT_S)
    try:
        admin = broker.client_config()
        ensure_topics(record.bootstrap, settings.topics.names(), partitions=1, config=admin)
        grant_acls(record.bootstrap, admin, pipeline_grants(settings))
        producer = Producer({**admin, "bootstrap.servers": record.bootstrap})
        for topic in settings.topics.names():
            producer.produce(topic, b"seed")
        assert producer.flush(CLIENT_TIMEOUT_S) == 0, "seed messages not delivered"
        yield Secured(broker, record.bootstrap, settings)
    finally:
        broker.stop()


def _produce(config: dict[str, Any], *topics: str) -> dict[str, KafkaError | None]:
    """Produce one message to each topic; topic → its delivery error (None: delivered)."""
    outcome: dict[str, KafkaError | None] = {}

    def on_delivery(error: KafkaError | None, message: Message) -> None:
        outcome[str(message.topic())] = error

    producer = Producer({**config, "message.timeout.ms": int(CLIENT_TIMEOUT_S * 1000)})
    for topic in topics:
        producer.produce(topic, b"value", on_delivery=on_delivery)
    assert producer.flush(CLIENT_TIMEOUT_S + 5) == 0, "a delivery report never came"
    return outcome


def _consume(config: dict[str, Any], topic: str, group: str) -> Message:
    """Subscribe as `group` and return the first message or error event, within the timeout."""
    consumer = Consumer(
        {
            **config,
            "group.id": group,
            "auto.offset.reset": "earliest",
            "enable.auto.commit": False,
        }
    )
    try:
        consumer.subscribe([topic])
        deadline = time.monotonic() + CLIENT_TIMEOUT_S
        while time.monotonic() < deadline:
            message = consumer.poll(0.5)
            if message is not None:
                return message
        pytest.fail(f"neither a message nor an error from {topic} within {CLIENT_TIMEOUT_S} s")
    finally:
        consumer.close()


def _code(message: Message) -> int | None:
    error = message.error()
    return None if error is None else error.code()


def test_producer_writes_raw_and_consent_idempotently(secured: Secured) -> None:
    """The producer's idempotent writes to raw and consent succeed (no cluster ACL needed)."""
    topics = secured.settings.topics
    config = secured.login("producer", **{"enable.idempotence": True})
    assert _produce(config, topics.raw, topics.consent) == {
        topics.raw: None,
        topics.consent: None,
    }


def test_producer_cannot_write_tagged(secured: Secured) -> None:
    """A write by the producer to the tagged topic is refused with TOPIC_AUTHORIZATION_FAILED."""
    tagged = secured.settings.topic_tagged
    error = _produce(secured.login("producer"), tagged)[tagged]
    assert error is not None
    assert error.code() == KafkaError.TOPIC_AUTHORIZATION_FAILED


def test_producer_cannot_read_raw(secured: Secured) -> None:
    """The producer reading raw in any consumer group is refused with GROUP_AUTHORIZATION_FAILED."""
    message = _consume(secured.login("producer"), secured.settings.topic_raw, "dua-producer")
    assert _code(message) == KafkaError.GROUP_AUTHORIZATION_FAILED


def test_processor_reads_inputs_and_writes_outputs(secured: Secured) -> None:
    """In its app-id group the processor reads raw and consent, writes tagged, violations, DLQ."""
    settings = secured.settings
    config = secured.login("processor")
    for topic in (settings.topic_raw, settings.topic_consent):
        message = _consume(config, topic, settings.processor_app_id)
        assert (_code(message), message.value()) == (None, b"seed")
    outputs = (settings.topic_tagged, settings.topic_violations, settings.topic_dlq)
    assert _produce(config, *outputs) == dict.fromkeys(outputs)


def test_processor_manages_its_own_topics_and_transactions(secured: Secured) -> None:
    """Under its app-id prefix the processor creates a changelog topic and commits a transaction."""
    app = secured.settings.processor_app_id
    config = secured.login("processor")
    changelog = f"{app}-counts-{uuid.uuid4().hex[:6]}-changelog"
    admin = AdminClient(config)  # kept: futures of a collected client fail with _DESTROY
    futures = admin.create_topics(
        [NewTopic(changelog, num_partitions=1)], request_timeout=CLIENT_TIMEOUT_S
    )
    futures[changelog].result(timeout=CLIENT_TIMEOUT_S)
    producer = Producer({**config, "transactional.id": f"{app}-{app}-0"})
    producer.init_transactions(CLIENT_TIMEOUT_S)
    producer.begin_transaction()
    producer.produce(changelog, b"count")
    producer.produce(secured.settings.topic_tagged, b"tagged")
    producer.commit_transaction(CLIENT_TIMEOUT_S)


def test_processor_cannot_write_raw(secured: Secured) -> None:
    """A write by the processor to the raw topic is refused with TOPIC_AUTHORIZATION_FAILED."""
    raw = secured.settings.topic_raw
    error = _produce(secured.login("processor"), raw)[raw]
    assert error is not None
    assert error.code() == KafkaError.TOPIC_AUTHORIZATION_FAILED


def test_processor_cannot_create_topics_outside_its_prefix(secured: Secured) -> None:
    """Creating a topic whose name lacks the app-id prefix is refused to the processor."""
    name = f"dua.other.{uuid.uuid4().hex[:6]}"
    admin = AdminClient(secured.login("processor"))
    futures = admin.create_topics(
        [NewTopic(name, num_partitions=1)], request_timeout=CLIENT_TIMEOUT_S
    )
    with pytest.raises(KafkaException) as refused:
        futures[name].result(timeout=CLIENT_TIMEOUT_S)
    assert refused.value.args[0].code() == KafkaError.TOPIC_AUTHORIZATION_FAILED


def test_sink_reads_every_output_in_its_group(secured: Secured) -> None:
    """In its own group the sink reads the tagged, violations and DLQ topics."""
    settings = secured.settings
    for topic in (settings.topic_tagged, settings.topic_violations, settings.topic_dlq):
        message = _consume(secured.login("sink"), topic, settings.sink_group)
        assert _code(message) is None, message.error()


def test_sink_cannot_write_anything(secured: Secured) -> None:
    """Every write by the sink, to any pipeline topic, is refused: TOPIC_AUTHORIZATION_FAILED."""
    topics = list(secured.settings.topics.names())
    outcome = _produce(secured.login("sink"), *topics)
    codes = {topic: error.code() if error else None for topic, error in outcome.items()}
    assert codes == dict.fromkeys(topics, KafkaError.TOPIC_AUTHORIZATION_FAILED)


def test_sink_cannot_read_raw(secured: Secured) -> None:
    """The sink reading raw, even in its own group, is refused with TOPIC_AUTHORIZATION_FAILED."""
    settings = secured.settings
    message = _consume(secured.login("sink"), settings.topic_raw, settings.sink_group)
    assert _code(message) == KafkaError.TOPIC_AUTHORIZATION_FAILED


def test_sink_cannot_join_the_notifier_group(secured: Secured) -> None:
    """The sink reading tagged in the notifier's group is refused: GROUP_AUTHORIZATION_FAILED."""
    settings = secured.settings
    message = _consume(secured.login("sink"), settings.topic_tagged, settings.notifier_group)
    assert _code(message) == KafkaError.GROUP_AUTHORIZATION_FAILED


def test_notifier_reads_violations_only(secured: Secured) -> None:
    """The notifier reads violations in its group; reading tagged is refused."""
    settings = secured.settings
    config = secured.login("notifier")
    allowed = _consume(config, settings.topic_violations, settings.notifier_group)
    assert _code(allowed) is None, allowed.error()
    refused = _consume(config, settings.topic_tagged, settings.notifier_group)
    assert _code(refused) == KafkaError.TOPIC_AUTHORIZATION_FAILED


def test_wrong_password_is_refused(secured: Secured) -> None:
    """A known user with a wrong password fails SASL authentication and sees no metadata."""
    errors: list[KafkaError] = []
    config = secured.login("sink")
    config.update({"sasl.password": "not-the-password", "error_cb": errors.append})
    admin = AdminClient(config)
    with pytest.raises(KafkaException):
        admin.list_topics(timeout=3.0)
    admin.poll(1.0)  # serves the error callbacks
    assert KafkaError._AUTHENTICATION in {error.code() for error in errors}


def test_client_without_credentials_is_refused(secured: Secured) -> None:
    """A plaintext client gets no metadata from the SASL listener, where a logged-in one does."""
    anonymous = AdminClient({"bootstrap.servers": secured.bootstrap})
    with pytest.raises(KafkaException):
        anonymous.list_topics(timeout=3.0)
    assert AdminClient(secured.login("notifier")).list_topics(timeout=CLIENT_TIMEOUT_S).brokers


def test_client_config_logs_a_component_in_as_its_principal(secured: Secured) -> None:
    """With no DUA_KAFKA_SASL_* set, client_config gives the sink its own stored login."""
    config = client_config(secured.settings, principal="sink")
    assert (config["security.protocol"], config["sasl.username"]) == ("SASL_PLAINTEXT", "sink")
    message = _consume(
        {**config, "bootstrap.servers": secured.bootstrap},
        secured.settings.topic_dlq,
        secured.settings.sink_group,
    )
    assert _code(message) is None, message.error()


def test_secrets_are_private_and_never_logged(secured: Secured) -> None:
    """The files holding passwords are mode 0600; no log or record of the broker holds one."""
    home = secured.broker.home
    for private in (secured.broker.credentials_path, secured.broker.properties):
        assert stat.S_IMODE(private.stat().st_mode) == 0o600, private
    stored = read_credentials(secured.broker.credentials_path)
    assert stored is not None
    assert set(stored.users) == {"admin", "producer", "processor", "sink", "notifier"}
    secrets = [stored.password(user) for user in stored.users]
    for public in (
        home / "server.log",
        home / "stdout.log",
        home / "format.log",
        home / "broker.json",
    ):
        text = public.read_text(encoding="utf-8", errors="replace")
        assert not any(secret in text for secret in secrets), public
    assert not (home / "format.args").exists()


def test_cli_up_secure_and_status_on_the_running_broker(secured: Secured) -> None:
    """`dua kafka up --secure` re-grants the ACLs without printing a password; `status` logs in."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("DUA_")}
    env.update(DUA_STATE_DIR=str(secured.settings.state_dir), DUA_TOPIC_PARTITIONS="1")

    def dua(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(DUA), "kafka", *args],
            check=False,
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )

    up = dua("up", "--secure")
    assert up.returncode == 0, up.stderr
    assert "already runs at" in up.stdout
    assert "security SASL_PLAINTEXT (SCRAM-SHA-512)" in up.stdout
    status = dua("status")
    assert status.returncode == 0, status.stderr
    assert "security SASL_PLAINTEXT" in status.stdout
    assert f"{secured.settings.topic_violations}: 1 partitions" in status.stdout
    password = secured.broker.client_config()["sasl.password"]
    assert password not in up.stdout + up.stderr + status.stdout + status.stderr
