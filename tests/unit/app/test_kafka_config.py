"""The local broker's plumbing without a broker: config rendering, tool checks, jar cache, state."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from pathlib import Path

import pytest

from dua.kafka import (
    BrokerConfig,
    BrokerError,
    BrokerRecord,
    LocalBroker,
    MissingTool,
    bootstrap_servers,
    cache_root,
    free_ports,
    render_server_properties,
    require_tool,
    resolve_jars,
)
from dua.kafka.jars import MARKER, write_marker
from dua.kafka.locator import asset_dir
from dua.kafka.record import read_record, write_record
from dua.settings import load_settings
from dua_schemas import ConfigError

VERSION = "4.4.0"


def _properties(text: str) -> dict[str, str]:
    pairs = (line.split("=", 1) for line in text.splitlines() if line and not line.startswith("#"))
    return {key.strip(): value.strip() for key, value in pairs}


def _pom_digest() -> str:
    return hashlib.sha256((asset_dir() / "pom.xml").read_bytes()).hexdigest()


def _fake_resolution(cache: Path, version: str = VERSION) -> Path:
    """A cache directory that looks like a finished resolution (empty jar files)."""
    directory = cache / f"kafka-{version}"
    (directory / "jars").mkdir(parents=True)
    for name in (f"kafka_2.13-{version}.jar", f"kafka-clients-{version}.jar"):
        (directory / "jars" / name).touch()
    write_marker(directory, version, _pom_digest())
    return directory


@pytest.fixture
def no_tools_on_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A PATH with nothing on it: neither java nor mvn can be found."""
    empty = tmp_path / "empty-bin"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))


def test_rendered_properties_fill_every_placeholder(tmp_path: Path) -> None:
    """The template becomes a single-node KRaft config on the given host, ports and directory."""
    config = BrokerConfig(
        host="127.0.0.1", broker_port=41001, controller_port=41002, log_dir=tmp_path / "data"
    )
    text = render_server_properties(config)
    props = _properties(text)
    assert "${" not in text
    assert props["process.roles"] == "broker,controller"
    assert props["node.id"] == "1"
    assert props["controller.quorum.voters"] == "1@127.0.0.1:41002"
    assert props["listeners"] == "PLAINTEXT://127.0.0.1:41001,CONTROLLER://127.0.0.1:41002"
    assert props["advertised.listeners"] == "PLAINTEXT://127.0.0.1:41001"
    assert props["log.dirs"] == (tmp_path / "data").as_posix()
    assert props["offsets.topic.replication.factor"] == "1"
    assert props["transaction.state.log.replication.factor"] == "1"
    assert props["group.initial.rebalance.delay.ms"] == "0"
    assert config.bootstrap == "127.0.0.1:41001"


def test_unknown_placeholder_in_template_is_reported(tmp_path: Path) -> None:
    """A template naming a value the renderer does not have fails with the placeholder's name."""
    config = BrokerConfig("127.0.0.1", 41001, 41002, tmp_path)
    with pytest.raises(BrokerError, match="cluster_name"):
        render_server_properties(config, "name=${cluster_name}\n")


def test_the_group_join_delay_is_the_broker_s_initial_rebalance_delay(tmp_path: Path) -> None:
    """0 by default (new groups start at once); Kafka's 3000 when asked for; bounded."""
    config = BrokerConfig("127.0.0.1", 41001, 41002, tmp_path, group_join_delay_ms=3000)
    props = _properties(render_server_properties(config))
    assert props["group.initial.rebalance.delay.ms"] == "3000"
    with pytest.raises(BrokerError, match="group join delay"):
        BrokerConfig("127.0.0.1", 41001, 41002, tmp_path, group_join_delay_ms=-1)


@pytest.mark.parametrize(("broker", "controller"), [(41001, 41001), (0, 41002), (41001, 70000)])
def test_impossible_ports_are_refused(tmp_path: Path, broker: int, controller: int) -> None:
    """Shared, zero or out-of-range ports are refused before anything is written."""
    with pytest.raises(BrokerError, match="port"):
        BrokerConfig("127.0.0.1", broker, controller, tmp_path)


def test_free_ports_are_distinct() -> None:
    """Two ports asked for together are different and both usable TCP ports."""
    first, second = free_ports(2)
    assert first != second
    assert 0 < first < 65536
    assert 0 < second < 65536


@pytest.mark.usefixtures("no_tools_on_path")
def test_missing_java_names_the_package_to_install() -> None:
    """Without java on PATH the error says which Java runtime to install."""
    with pytest.raises(MissingTool, match=r"openjdk-17-jre-headless") as caught:
        require_tool("java")
    assert caught.value.tool == "java"


@pytest.mark.usefixtures("no_tools_on_path")
def test_missing_maven_is_reported_when_jars_must_be_resolved(tmp_path: Path) -> None:
    """An empty cache needs Maven; without it the error names it and nothing is left behind."""
    cache = tmp_path / "cache"
    with pytest.raises(MissingTool, match=r"apt-get install maven"):
        resolve_jars(VERSION, cache)
    assert not (cache / f"kafka-{VERSION}").exists()


@pytest.mark.usefixtures("no_tools_on_path")
def test_complete_cache_is_reused_without_maven(tmp_path: Path) -> None:
    """A resolution with a matching marker is used as is: no Maven (none is on PATH), no output."""
    directory = _fake_resolution(tmp_path)
    lines: list[str] = []
    jars = resolve_jars(VERSION, tmp_path, progress=lines.append)
    assert jars.version == VERSION
    assert jars.directory == directory / "jars"
    assert jars.classpath == str(directory / "jars" / "*")
    assert lines == []


@pytest.mark.usefixtures("no_tools_on_path")
def test_cache_without_marker_is_not_trusted(tmp_path: Path) -> None:
    """Jars an interrupted run left without a marker send us back to Maven."""
    directory = _fake_resolution(tmp_path)
    (directory / MARKER).unlink()
    with pytest.raises(MissingTool, match="mvn"):
        resolve_jars(VERSION, tmp_path)


@pytest.mark.usefixtures("no_tools_on_path")
def test_marker_listing_a_missing_jar_is_not_trusted(tmp_path: Path) -> None:
    """A marker whose jars are not all on disk does not count as a resolution."""
    directory = _fake_resolution(tmp_path)
    (directory / "jars" / f"kafka-clients-{VERSION}.jar").unlink()
    with pytest.raises(MissingTool, match="mvn"):
        resolve_jars(VERSION, tmp_path)


@pytest.mark.usefixtures("no_tools_on_path")
def test_marker_from_another_pom_is_not_trusted(tmp_path: Path) -> None:
    """Changing deploy/kafka/pom.xml (e.g. the log4j binding) invalidates earlier resolutions."""
    directory = tmp_path / f"kafka-{VERSION}"
    (directory / "jars").mkdir(parents=True)
    (directory / "jars" / f"kafka_2.13-{VERSION}.jar").touch()
    write_marker(directory, VERSION, "0" * 64)
    with pytest.raises(MissingTool, match="mvn"):
        resolve_jars(VERSION, tmp_path)


def test_marker_is_refused_without_the_kafka_jar(tmp_path: Path) -> None:
    """A Maven run that produced no kafka_2.13 jar is not recorded as complete."""
    (tmp_path / "jars").mkdir()
    (tmp_path / "jars" / "slf4j-api-1.7.36.jar").touch()
    with pytest.raises(BrokerError, match=r"kafka_2\.13"):
        write_marker(tmp_path, VERSION, _pom_digest())
    assert not (tmp_path / MARKER).exists()


def test_version_that_is_not_a_release_is_refused(tmp_path: Path) -> None:
    """A version that could escape the cache directory or is no release number is refused."""
    with pytest.raises(BrokerError, match="release number"):
        resolve_jars("../4.4.0", tmp_path)


def test_cache_root_prefers_dua_then_xdg_then_home() -> None:
    """DUA_CACHE_DIR wins over XDG_CACHE_HOME, which wins over ~/.cache."""
    assert cache_root({"DUA_CACHE_DIR": "/a", "XDG_CACHE_HOME": "/b"}) == Path("/a")
    assert cache_root({"XDG_CACHE_HOME": "/b"}) == Path("/b/dua")
    assert cache_root({}) == Path.home() / ".cache" / "dua"


def test_record_round_trips_through_its_file(tmp_path: Path) -> None:
    """A written broker.json reads back equal; a missing one reads as no broker."""
    path = tmp_path / "kafka" / "broker.json"
    assert read_record(path) is None
    record = BrokerRecord(
        pid=1234,
        bootstrap="127.0.0.1:41001",
        version=VERSION,
        log_path=tmp_path / "server.log",
        properties=tmp_path / "server.properties",
        started_at="2026-01-01T00:00:00+00:00",
    )
    write_record(path, record)
    assert read_record(path) == record


def test_corrupt_record_is_reported_with_its_path(tmp_path: Path) -> None:
    """A broker.json that is not JSON fails naming the file, not with a bare parse error."""
    path = tmp_path / "broker.json"
    path.write_text("{not json")
    with pytest.raises(BrokerError, match=r"broker\.json"):
        read_record(path)


def test_bootstrap_setting_wins_over_the_local_broker(tmp_path: Path) -> None:
    """An explicit DUA_KAFKA_BOOTSTRAP is used as given."""
    settings = load_settings(state_dir=tmp_path, kafka_bootstrap="kafka-1:9092,kafka-2:9092")
    assert bootstrap_servers(settings) == "kafka-1:9092,kafka-2:9092"


def test_stale_record_is_no_running_broker(tmp_path: Path) -> None:
    """A broker.json whose process has ended means no broker, and the error says what to do."""
    finished = subprocess.Popen([sys.executable, "-c", "pass"])
    finished.wait()
    broker = LocalBroker(tmp_path / "kafka")
    write_record(
        broker.record_path,
        BrokerRecord(
            pid=finished.pid,
            bootstrap="127.0.0.1:41001",
            version=VERSION,
            log_path=broker.log_path,
            properties=broker.properties,
            started_at="2026-01-01T00:00:00+00:00",
        ),
    )
    assert broker.status() is None
    settings = load_settings(state_dir=tmp_path, kafka_bootstrap=None)
    with pytest.raises(ConfigError, match=r"dua kafka up.*DUA_KAFKA_BOOTSTRAP"):
        bootstrap_servers(settings)
    assert broker.stop() is None
    assert not broker.record_path.exists()


def test_cli_without_java_exits_with_one_clear_line(tmp_path: Path) -> None:
    """`dua kafka up` with a cached resolution but no java on PATH says what to install."""
    _fake_resolution(tmp_path / "cache")
    empty = tmp_path / "empty-bin"
    empty.mkdir()
    env = {key: value for key, value in os.environ.items() if not key.startswith("DUA_")}
    env.update(PATH=str(empty), DUA_STATE_DIR=str(tmp_path / "state"))
    env["DUA_CACHE_DIR"] = str(tmp_path / "cache")
    dua = Path(sys.executable).with_name("dua")
    done = subprocess.run(
        [str(dua), "kafka", "up"], env=env, capture_output=True, text=True, check=False, timeout=60
    )
    assert done.returncode == 2
    assert done.stderr.strip() == (
        "dua: error: `java` was not found on PATH: "
        "install a Java 17 runtime (apt-get install openjdk-17-jre-headless)"
    )
