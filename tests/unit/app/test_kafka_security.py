"""Local broker security without a broker: secured config, credentials, ACLs, client login."""

from __future__ import annotations

import json
import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

# The documented path; confluent_kafka.admin re-exports these without an `__all__`.
from confluent_kafka.admin import (  # type: ignore[attr-defined]
    AclOperation,
    AclPermissionType,
    ResourcePatternType,
    ResourceType,
)

from dua.kafka import (
    BrokerConfig,
    BrokerError,
    BrokerRecord,
    BrokerSecurity,
    Grant,
    KafkaJars,
    LocalBroker,
    client_config,
    pipeline_grants,
    render_server_properties,
)
from dua.kafka.credentials import ensure_credentials, read_credentials, write_private
from dua.kafka.record import read_record, write_record
from dua.settings import Settings, load_settings
from dua_schemas import ConfigError

MECHANISM = "SCRAM-SHA-512"
SECRET = "s3cret-Admin_pw"


def _properties(text: str) -> dict[str, str]:
    pairs = (line.split("=", 1) for line in text.splitlines() if line and not line.startswith("#"))
    return {key.strip(): value.strip() for key, value in pairs}


def _secured(tmp_path: Path) -> BrokerConfig:
    return BrokerConfig(
        host="127.0.0.1",
        broker_port=41001,
        controller_port=41002,
        log_dir=tmp_path / "data",
        security=BrokerSecurity(),
        admin_password=SECRET,
    )


def _settings(tmp_path: Path, **overrides: object) -> Settings:
    """Settings on a fresh state dir, with no Kafka login configured unless overridden."""
    values: dict[str, object] = {
        "state_dir": tmp_path / "state",
        "kafka_bootstrap": None,
        "kafka_security_protocol": None,
        "kafka_sasl_username": None,
        "kafka_sasl_password": None,
        "kafka_ssl_ca_location": None,
    }
    values.update(overrides)
    return load_settings(**values)


@pytest.fixture
def open_umask() -> Iterator[None]:
    """A umask that would leave new files readable by everyone."""
    previous = os.umask(0o000)
    try:
        yield
    finally:
        os.umask(previous)


# ---------------------------------------------------------------- broker configuration


def test_secured_properties_use_sasl_scram_and_the_authorizer(tmp_path: Path) -> None:
    """A secured config has a SCRAM client listener, a plaintext controller and ACLs on."""
    text = render_server_properties(_secured(tmp_path))
    props = _properties(text)
    assert "${" not in text
    assert props["listeners"] == "SASL_PLAINTEXT://127.0.0.1:41001,CONTROLLER://127.0.0.1:41002"
    assert props["advertised.listeners"] == "SASL_PLAINTEXT://127.0.0.1:41001"
    assert props["listener.security.protocol.map"] == (
        "SASL_PLAINTEXT:SASL_PLAINTEXT,CONTROLLER:PLAINTEXT"
    )
    assert props["inter.broker.listener.name"] == "SASL_PLAINTEXT"
    assert props["sasl.enabled.mechanisms"] == MECHANISM
    assert props["sasl.mechanism.inter.broker.protocol"] == MECHANISM
    assert props["authorizer.class.name"] == (
        "org.apache.kafka.metadata.authorizer.StandardAuthorizer"
    )
    assert props["allow.everyone.if.no.acl.found"] == "false"
    assert props["super.users"].split(";")[0] == "User:admin"
    jaas = props["listener.name.sasl_plaintext.scram-sha-512.sasl.jaas.config"]
    assert 'username="admin"' in jaas
    assert f'password="{SECRET}"' in jaas


def test_plain_properties_have_no_security_settings(tmp_path: Path) -> None:
    """Without security the rendered file has no SASL, authorizer or super-user settings."""
    config = BrokerConfig("127.0.0.1", 41001, 41002, tmp_path)
    props = _properties(render_server_properties(config))
    assert props["inter.broker.listener.name"] == "PLAINTEXT"
    assert not {key for key in props if "sasl" in key or "authorizer" in key or "super" in key}


def test_secured_config_hides_the_password_and_requires_it(tmp_path: Path) -> None:
    """The admin password is not in the config's repr; a secured config without one is refused."""
    assert SECRET not in repr(_secured(tmp_path))
    with pytest.raises(BrokerError, match="admin password"):
        BrokerConfig("127.0.0.1", 41001, 41002, tmp_path, security=BrokerSecurity())


@pytest.mark.parametrize(
    ("admin", "principals", "problem"),
    [
        ("admin", ("sink", "sink"), "repeat"),
        ("admin", ("admin",), "repeat"),
        ("ad,min", (), "not a letter"),
        ("admin", ("sink]",), "not a letter"),
    ],
)
def test_broker_security_refuses_bad_user_names(
    admin: str, principals: tuple[str, ...], problem: str
) -> None:
    """User names that repeat or would break `--add-scram`/JAAS syntax are refused."""
    with pytest.raises(BrokerError, match=problem):
        BrokerSecurity(admin=admin, principals=principals)


# ---------------------------------------------------------------- credentials


def test_credentials_are_random_private_and_stable(tmp_path: Path, open_umask: None) -> None:
    """Each user gets its own password in a 0600 file; asking again returns the same ones."""
    path = tmp_path / "kafka" / "credentials.json"
    first = ensure_credentials(path, ("admin", "sink", "notifier"), MECHANISM)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert first.users == ("admin", "sink", "notifier")
    assert len(set(first.passwords.values())) == 3
    assert all(len(secret) >= 40 for secret in first.passwords.values())
    assert ensure_credentials(path, ("sink", "admin"), MECHANISM) == first
    assert read_credentials(path) == first


def test_new_users_get_passwords_and_old_ones_keep_theirs(tmp_path: Path) -> None:
    """Adding a user keeps every existing password."""
    path = tmp_path / "credentials.json"
    before = ensure_credentials(path, ("admin",), MECHANISM)
    after = ensure_credentials(path, ("admin", "processor"), MECHANISM)
    assert after.password("admin") == before.password("admin")
    assert after.users == ("admin", "processor")


def test_credentials_never_show_passwords(tmp_path: Path) -> None:
    """repr() of credentials names the mechanism, not the passwords."""
    credentials = ensure_credentials(tmp_path / "c.json", ("admin",), MECHANISM)
    assert credentials.password("admin") not in repr(credentials)
    assert MECHANISM in repr(credentials)


def test_unknown_user_and_other_mechanism_are_reported(tmp_path: Path) -> None:
    """Asking for a user without a password, or another mechanism, fails naming the problem."""
    path = tmp_path / "c.json"
    credentials = ensure_credentials(path, ("admin",), MECHANISM)
    with pytest.raises(BrokerError, match=r"no credentials for user 'sink' \(known: admin\)"):
        credentials.password("sink")
    with pytest.raises(BrokerError, match="not SCRAM-SHA-256"):
        ensure_credentials(path, ("admin",), "SCRAM-SHA-256")


def test_damaged_credentials_file_is_reported(tmp_path: Path) -> None:
    """A credentials file that is not the expected JSON fails with its path."""
    path = tmp_path / "c.json"
    path.write_text("{not json", encoding="utf-8")
    with pytest.raises(BrokerError, match=r"c\.json is unreadable"):
        read_credentials(path)
    path.write_text(json.dumps({"mechanism": MECHANISM}), encoding="utf-8")
    with pytest.raises(BrokerError, match="passwords"):
        read_credentials(path)


def test_private_files_replace_readable_ones(tmp_path: Path, open_umask: None) -> None:
    """write_private leaves a 0600 file even where a world-readable one was."""
    path = tmp_path / "server.properties"
    path.write_text("old", encoding="utf-8")
    path.chmod(0o644)
    write_private(path, "new")
    assert path.read_text(encoding="utf-8") == "new"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert not list(tmp_path.glob("*.partial"))


# ---------------------------------------------------------------- the broker's login


def _record(broker: LocalBroker, protocol: str) -> None:
    write_record(
        broker.record_path,
        BrokerRecord(
            pid=1,
            bootstrap="127.0.0.1:41001",
            version="4.4.0",
            log_path=broker.log_path,
            properties=broker.properties,
            started_at="2025-01-01T00:00:00+00:00",
            security_protocol=protocol,
        ),
    )


def test_broker_client_config_follows_its_record(tmp_path: Path) -> None:
    """A plaintext broker needs no login; a secured one gives the admin's (or a user's) login."""
    broker = LocalBroker(tmp_path / "kafka")
    assert broker.client_config() == {}
    _record(broker, "SASL_PLAINTEXT")
    stored = ensure_credentials(broker.credentials_path, ("admin", "sink"), MECHANISM)
    assert broker.client_config() == {
        "security.protocol": "SASL_PLAINTEXT",
        "sasl.mechanism": MECHANISM,
        "sasl.username": "admin",
        "sasl.password": stored.password("admin"),
    }
    assert broker.client_config("sink")["sasl.password"] == stored.password("sink")
    broker.credentials_path.unlink()
    with pytest.raises(BrokerError, match="credentials"):
        broker.client_config()


def test_records_without_a_protocol_are_plaintext(tmp_path: Path) -> None:
    """A broker.json written before `--secure` existed reads as a plaintext broker."""
    path = tmp_path / "broker.json"
    fields = {
        "pid": 1,
        "bootstrap": "127.0.0.1:1",
        "version": "4.4.0",
        "log_path": "l",
        "properties": "p",
        "started_at": "t",
    }
    path.write_text(json.dumps(fields), encoding="utf-8")
    record = read_record(path)
    assert record is not None
    assert (record.security_protocol, record.secured) == ("PLAINTEXT", False)


def test_secured_start_refuses_data_formatted_without_security(tmp_path: Path) -> None:
    """Storage formatted without SCRAM users cannot become a secured broker: purge it first."""
    broker = LocalBroker(tmp_path / "kafka", security=BrokerSecurity())
    broker.data_dir.mkdir(parents=True)
    (broker.data_dir / "meta.properties").write_text("cluster.id=x\n", encoding="utf-8")
    jars = KafkaJars(version="4.4.0", directory=tmp_path / "jars")
    with pytest.raises(BrokerError, match=r"without security.*--purge"):
        broker.start(jars)
    assert not broker.credentials_path.exists()


def test_purge_forgets_the_passwords(tmp_path: Path) -> None:
    """Purging a stopped broker deletes its data, its credentials and its rendered config."""
    broker = LocalBroker(tmp_path / "kafka", security=BrokerSecurity())
    broker.data_dir.mkdir(parents=True)
    ensure_credentials(broker.credentials_path, ("admin",), MECHANISM)
    write_private(broker.properties, "admin password inside\n")
    broker.purge()
    assert not broker.data_dir.exists()
    assert not broker.credentials_path.exists()
    assert not broker.properties.exists()


# ---------------------------------------------------------------- ACLs


def _allowed(grants: tuple[Grant, ...], user: str) -> set[tuple[str, str, str, bool]]:
    """(resource, name, operation, prefixed) that `user` is granted."""
    return {
        (grant.resource.name, grant.name, operation.name, grant.prefixed)
        for grant in grants
        if grant.user == user
        for operation in grant.operations
    }


def test_producer_may_only_write_raw_and_consent(tmp_path: Path) -> None:
    """The producer writes (and describes) raw and consent, and nothing else."""
    settings = _settings(tmp_path)
    allowed = _allowed(pipeline_grants(settings), "producer")
    assert allowed == {
        ("TOPIC", topic, operation, False)
        for topic in (settings.topic_raw, settings.topic_consent)
        for operation in ("WRITE", "DESCRIBE")
    }


def test_processor_reads_inputs_writes_outputs_and_owns_its_prefix(tmp_path: Path) -> None:
    """The processor reads raw/consent, writes the outputs, manages app-id-prefixed resources."""
    settings = _settings(tmp_path, processor_app_id="dua-proc")
    allowed = _allowed(pipeline_grants(settings), "processor")
    operations = {(name, op) for _, name, op, prefixed in allowed if not prefixed}
    assert ("dua.access.raw", "READ") in operations
    assert ("dua.consent", "READ") in operations
    assert {("dua.access.raw", "WRITE"), ("dua.consent", "WRITE")}.isdisjoint(operations)
    for topic in ("dua.access.tagged", "dua.violations", "dua.access.dlq"):
        assert (topic, "WRITE") in operations
        assert (topic, "READ") not in operations
    prefixed = {(resource, op) for resource, name, op, pre in allowed if pre and name == "dua-proc"}
    assert {("TOPIC", "CREATE"), ("TOPIC", "WRITE"), ("TOPIC", "READ")} <= prefixed
    assert ("GROUP", "READ") in prefixed
    assert ("TRANSACTIONAL_ID", "WRITE") in prefixed
    assert ("TOPIC", "DELETE") not in prefixed


def test_sink_and_notifier_only_read_their_topics_in_their_groups(tmp_path: Path) -> None:
    """The sink reads the three outputs in its group; the notifier reads violations in its own."""
    settings = _settings(tmp_path, sink_group="g-sink", notifier_group="g-notifier")
    grants = pipeline_grants(settings)
    sink = _allowed(grants, "sink")
    notifier = _allowed(grants, "notifier")
    assert {op for _, _, op, _ in sink | notifier} == {"READ", "DESCRIBE"}
    assert {name for kind, name, _, _ in sink if kind == "TOPIC"} == {
        settings.topic_tagged,
        settings.topic_violations,
        settings.topic_dlq,
    }
    assert {name for kind, name, _, _ in sink if kind == "GROUP"} == {"g-sink"}
    assert {(kind, name) for kind, name, _, _ in notifier} == {
        ("TOPIC", settings.topic_violations),
        ("GROUP", "g-notifier"),
    }


def test_app_id_that_prefixes_other_names_is_refused(tmp_path: Path) -> None:
    """An app id that is a prefix of a pipeline topic or another group would over-grant: refused."""
    with pytest.raises(ConfigError, match=r"'dua' is a prefix of topic dua\.access\.raw"):
        pipeline_grants(_settings(tmp_path, processor_app_id="dua"))
    with pytest.raises(ConfigError, match="sink group dua-sink"):
        pipeline_grants(_settings(tmp_path, processor_app_id="dua-s"))


def test_grant_becomes_one_allow_binding_per_operation() -> None:
    """A grant expands to ALLOW bindings for `User:<name>` from any host, one per operation."""
    grant = Grant("sink", ResourceType.GROUP, "dua-", (AclOperation.READ,), prefixed=True)
    (binding,) = grant.bindings()
    assert binding.principal == "User:sink"
    assert binding.host == "*"
    assert binding.resource_pattern_type == ResourcePatternType.PREFIXED
    assert binding.permission_type == AclPermissionType.ALLOW
    assert binding.operation == AclOperation.READ


# ---------------------------------------------------------------- client_config


def test_client_config_is_plaintext_by_default(tmp_path: Path) -> None:
    """With nothing configured and no secured local broker, clients speak PLAINTEXT."""
    assert client_config(_settings(tmp_path), principal="sink") == {
        "security.protocol": "PLAINTEXT"
    }


def test_client_config_maps_sasl_settings_to_librdkafka(tmp_path: Path) -> None:
    """Configured SASL settings become security.protocol, sasl.* and ssl.ca.location."""
    settings = _settings(
        tmp_path,
        kafka_bootstrap="kafka-1:9093",
        kafka_security_protocol="SASL_SSL",
        kafka_sasl_mechanism="SCRAM-SHA-256",
        kafka_sasl_username="audit-sink",
        kafka_sasl_password="pw-from-vault",
        kafka_ssl_ca_location=tmp_path / "ca.pem",
    )
    assert "pw-from-vault" not in repr(settings)
    assert client_config(settings, principal="sink") == {
        "security.protocol": "SASL_SSL",
        "sasl.mechanism": "SCRAM-SHA-256",
        "sasl.username": "audit-sink",
        "sasl.password": "pw-from-vault",
        "ssl.ca.location": str(tmp_path / "ca.pem"),
    }


def test_client_config_reads_the_local_brokers_password(tmp_path: Path) -> None:
    """Against the local broker, the principal's password comes from its credentials file."""
    settings = _settings(tmp_path, kafka_security_protocol="SASL_PLAINTEXT")
    stored = ensure_credentials(
        settings.state_dir / "kafka" / "credentials.json", ("admin", "notifier"), MECHANISM
    )
    config = client_config(settings, principal="notifier")
    assert (config["sasl.username"], config["sasl.password"]) == (
        "notifier",
        stored.password("notifier"),
    )


def test_client_config_names_the_missing_setting(tmp_path: Path) -> None:
    """SASL without a user, or without a password anywhere, fails naming the variable to set."""
    remote = {"kafka_bootstrap": "kafka-1:9093", "kafka_security_protocol": "SASL_PLAINTEXT"}
    with pytest.raises(ConfigError, match="DUA_KAFKA_SASL_USERNAME"):
        client_config(_settings(tmp_path, **remote))
    with pytest.raises(ConfigError, match="DUA_KAFKA_SASL_PASSWORD"):
        client_config(_settings(tmp_path, **remote), principal="sink")


def test_security_settings_treat_empty_as_unset(tmp_path: Path) -> None:
    """Empty DUA_KAFKA_SECURITY_PROTOCOL/SASL values mean unset; unknown protocols are refused."""
    settings = _settings(tmp_path, kafka_security_protocol="", kafka_sasl_password="")
    assert settings.kafka_security_protocol is None
    assert settings.kafka_sasl_password is None
    with pytest.raises(ConfigError, match="DUA_KAFKA_SECURITY_PROTOCOL"):
        _settings(tmp_path, kafka_security_protocol="KERBEROS")
