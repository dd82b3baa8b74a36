"""Fixtures shared by every test: a real Kafka broker and a real ClickHouse engine.

Which ones, decided once per session from the environment:
- `DUA_KAFKA_BOOTSTRAP` set: that Kafka cluster.
- `DUA_TEST_BACKEND=docker`: `apache/kafka` and `clickhouse/clickhouse-server` containers
  (testcontainers); skipped with a reason when no Docker engine answers.
- otherwise (the default): the project's own `LocalBroker` on free ports in a temporary
  directory, and an embedded chDB directory. One of each per session: a broker takes seconds
  to start, and chDB allows one data directory per process.

The Java, TypeScript and Go SDKs' tests get each SDK's scripted service built once per session
(`scripted_program`, parametrized over the three; the Java one from `java_classpath`).

Tests isolate themselves with unique names instead: `topic_factory` and `settings_factory`
create fresh topics, `clickhouse_database` a fresh database.
"""

from __future__ import annotations

import os
import re
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import fields
from functools import partial
from pathlib import Path
from typing import Any, TypeVar

import clickhouse_connect
import pytest
from bench import sdk_languages
from bench.sdk_languages import SdkBuildError, ToolchainMissingError
from tests.integration.sdk_service import BY_NAME as SDK_BY_NAME
from tests.integration.sdk_service import LANGUAGES as SDK_LANGUAGES
from tests.integration.sdk_service import ScriptedProgram

from dua.kafka import LocalBroker, cache_root, ensure_topics, free_ports, resolve_jars
from dua.settings import Settings, load_settings
from dua_schemas import DuaError, Topics

BACKEND_ENV = "DUA_TEST_BACKEND"
CLICKHOUSE_IMAGE = "clickhouse/clickhouse-server:25.8"
DEFAULT_PARTITIONS = 4
T = TypeVar("T")

# What each session fixture actually used, for the closing summary line.
_BACKENDS = pytest.StashKey[dict[str, str]]()


def _docker_backend() -> bool:
    return os.environ.get(BACKEND_ENV, "").strip().lower() == "docker"


def _note_backend(request: pytest.FixtureRequest, part: str, description: str) -> None:
    request.config.stash.setdefault(_BACKENDS, {})[part] = description


def pytest_report_header(config: pytest.Config) -> str:
    """Say up front which Kafka and ClickHouse the integration tests will use."""
    external = os.environ.get("DUA_KAFKA_BOOTSTRAP")
    if external:
        kafka = f"external cluster at {external}"
    elif _docker_backend():
        kafka = "apache/kafka container (testcontainers)"
    else:
        try:
            version = load_settings().kafka_version
        except DuaError as exc:  # the fixtures will fail with the same message, in context
            version = "? (" + " ".join(str(exc).split()) + ")"
        kafka = f"local broker {version} (started on first use)"
    clickhouse = CLICKHOUSE_IMAGE + " container" if _docker_backend() else "chDB (embedded)"
    return f"dua: Kafka = {kafka}; ClickHouse = {clickhouse}"


def pytest_terminal_summary(terminalreporter: Any, config: pytest.Config) -> None:
    """Repeat, at the end, what the integration tests really ran against."""
    used = config.stash.get(_BACKENDS, {})
    if used:
        parts = "; ".join(f"{part} = {description}" for part, description in sorted(used.items()))
        terminalreporter.write_line(f"dua: {parts}")


def _require_docker() -> None:
    import docker  # type: ignore[import-untyped]  # noqa: PLC0415 - docker backend only

    try:
        docker.from_env().ping()
    except Exception as exc:  # any failure means the same: no engine to use
        pytest.skip(f"{BACKEND_ENV}=docker but no Docker engine answers ({exc})")


# ---------------------------------------------------------------- Kafka


@pytest.fixture
def clean_settings_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No DUA_* variable of the developer's shell, nor a dua.toml, reaches `load_settings`."""
    for name in list(os.environ):
        if name.startswith("DUA_"):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)


@pytest.fixture(scope="session")
def kafka_bootstrap(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """Bootstrap servers of the session's Kafka (see the module docstring for which one)."""
    external = os.environ.get("DUA_KAFKA_BOOTSTRAP")
    if external:
        _note_backend(request, "Kafka", f"external cluster at {external}")
        yield external
    elif _docker_backend():
        yield from _kafka_container(request)
    else:
        yield from _local_broker(request, tmp_path_factory.mktemp("kafka"))


def _local_broker(request: pytest.FixtureRequest, home: Path) -> Iterator[str]:
    settings = load_settings()
    jars = resolve_jars(settings.kafka_version, cache_root(os.environ))
    broker = LocalBroker(home)
    started = time.monotonic()
    record = broker.start(jars, heap=settings.kafka_heap)
    _note_backend(
        request,
        "Kafka",
        f"local broker {record.version} at {record.bootstrap} "
        f"(started in {time.monotonic() - started:.1f} s)",
    )
    try:
        yield record.bootstrap
    finally:
        broker.stop()


def _kafka_container(request: pytest.FixtureRequest) -> Iterator[str]:
    _require_docker()
    from testcontainers.core.container import DockerContainer  # noqa: PLC0415
    from testcontainers.core.wait_strategies import LogMessageWaitStrategy  # noqa: PLC0415

    version = load_settings().kafka_version
    # The same port inside and outside, so the advertised listener is right without a restart.
    (port,) = free_ports(1)
    container = (
        DockerContainer(f"apache/kafka:{version}")
        .with_bind_ports(port, port)
        .with_envs(
            KAFKA_NODE_ID="1",
            KAFKA_PROCESS_ROLES="broker,controller",
            KAFKA_LISTENERS=f"PLAINTEXT://0.0.0.0:{port},CONTROLLER://localhost:9093",
            KAFKA_ADVERTISED_LISTENERS=f"PLAINTEXT://localhost:{port}",
            KAFKA_LISTENER_SECURITY_PROTOCOL_MAP="CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT",
            KAFKA_CONTROLLER_LISTENER_NAMES="CONTROLLER",
            KAFKA_CONTROLLER_QUORUM_VOTERS="1@localhost:9093",
            KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR="1",
            KAFKA_TRANSACTION_STATE_LOG_REPLICATION_FACTOR="1",
            KAFKA_TRANSACTION_STATE_LOG_MIN_ISR="1",
            KAFKA_GROUP_INITIAL_REBALANCE_DELAY_MS="0",
            KAFKA_AUTO_CREATE_TOPICS_ENABLE="false",
        )
        .waiting_for(LogMessageWaitStrategy("Kafka Server started"))
    )
    with container:
        bootstrap = f"localhost:{port}"
        _note_backend(request, "Kafka", f"apache/kafka:{version} container at {bootstrap}")
        yield bootstrap


def _topic_name(role: str) -> str:
    # Kafka allows only [a-zA-Z0-9._-] in topic names.
    safe = re.sub(r"[^a-zA-Z0-9._-]", "-", role)
    return f"test.{safe}.{uuid.uuid4().hex[:10]}"


@pytest.fixture
def topic_factory(kafka_bootstrap: str) -> Callable[..., list[str]]:
    """`create(*roles, partitions=4) -> names`: fresh topics, one per role, named test.<role>.<id>.

    Topics are not deleted afterwards: names never repeat, and deleting while a client of the
    test may still poll them only makes noise. On a long-lived external cluster, `test.*`
    topics can be removed in bulk.
    """

    def create(*roles: str, partitions: int = DEFAULT_PARTITIONS) -> list[str]:
        names = [_topic_name(role) for role in roles]
        ensure_topics(kafka_bootstrap, names, partitions=partitions)
        return names

    return create


@pytest.fixture
def settings_factory(
    kafka_bootstrap: str,
    topic_factory: Callable[..., list[str]],
    clickhouse_dsn: str,
    tmp_path: Path,
) -> Callable[..., Settings]:
    """`make(partitions=4, **overrides) -> Settings` wired to the session's Kafka and ClickHouse.

    Every pipeline topic is a fresh one, `state_dir` is the test's own temporary directory,
    and `clickhouse_dsn` points at the session's engine (chDB allows one directory per process).
    """

    def make(*, partitions: int = DEFAULT_PARTITIONS, **overrides: Any) -> Settings:
        roles = [field.name for field in fields(Topics)]
        names = topic_factory(*roles, partitions=partitions)
        values: dict[str, Any] = {
            f"topic_{role}": name for role, name in zip(roles, names, strict=True)
        }
        values.update(
            kafka_bootstrap=kafka_bootstrap,
            clickhouse_dsn=clickhouse_dsn,
            state_dir=tmp_path / "state",
            topic_partitions=partitions,
        )
        values.update(overrides)
        return load_settings(**values)

    return make


# ---------------------------------------------------------------- the Java, TypeScript, Go SDKs


def _built(build: Callable[[], T]) -> T:
    """`build()`; a missing toolchain skips with its reason, except under CI (where every
    toolchain is installed), which fails; a failed build fails."""
    try:
        return build()
    except ToolchainMissingError as exc:
        if os.environ.get("CI"):
            pytest.fail(f"{exc} (CI installs every SDK's toolchain)", pytrace=False)
        pytest.skip(str(exc))
    except SdkBuildError as exc:
        pytest.fail(str(exc), pytrace=False)


@pytest.fixture(scope="session")
def java_classpath() -> str:
    """The Java SDK and its test programs (`dua.producer.ScriptedService`, ...) compiled once
    per session by Maven, in the repository `make test-java` uses; their `java -cp` classpath."""
    return _built(sdk_languages.java_classpath)


@pytest.fixture(scope="session", params=[language.name for language in SDK_LANGUAGES])
def scripted_program(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> ScriptedProgram:
    """The Java, TypeScript and Go SDKs' scripted services in turn, each built once per
    session (Maven, `go build`, `tsc` on what `make typescript-setup` installed)."""
    language = SDK_BY_NAME[request.param]
    build = language.build
    if build is None:
        built = request.getfixturevalue("java_classpath")
    else:
        built = _built(partial(build, tmp_path_factory.mktemp(f"{language.name}-sdk")))
    return ScriptedProgram(language, language.command(built))


# ---------------------------------------------------------------- ClickHouse


@pytest.fixture(scope="session")
def clickhouse_dsn(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """clickhouse-connect DSN of the session's engine: a chDB directory, or a container."""
    if not _docker_backend():
        yield f"chdb://{tmp_path_factory.mktemp('chdb')}"
        return
    _require_docker()
    from testcontainers.clickhouse import ClickHouseContainer  # noqa: PLC0415

    with ClickHouseContainer(CLICKHOUSE_IMAGE) as container:
        host = container.get_container_host_ip()
        port = container.get_exposed_port(8123)
        _note_backend(request, "ClickHouse", f"{CLICKHOUSE_IMAGE} container at {host}:{port}")
        yield f"clickhouse://{container.username}:{container.password}@{host}:{port}/default"


@pytest.fixture(scope="session")
def chdb_client(request: pytest.FixtureRequest, clickhouse_dsn: str) -> Iterator[Any]:
    """A clickhouse-connect client on the session's engine (chDB unless the docker backend)."""
    client = clickhouse_connect.get_client(dsn=clickhouse_dsn)
    if clickhouse_dsn.startswith("chdb://"):
        _note_backend(request, "ClickHouse", f"chDB {client.server_version}")
    try:
        yield client
    finally:
        client.close()


@pytest.fixture
def clickhouse_database(chdb_client: Any) -> Iterator[str]:
    """A fresh, empty database on the session's engine, dropped after the test."""
    name = f"test_{uuid.uuid4().hex[:12]}"
    chdb_client.command(f"CREATE DATABASE {name}")
    try:
        yield name
    finally:
        chdb_client.command(f"DROP DATABASE IF EXISTS {name} SYNC")
