"""Resolves the broker's runtime classpath from Maven Central into a cache outside the repository.

The first resolution downloads ~45 jars and takes a while; the result is kept in
`<cache>/kafka-<version>/` and reused. A marker file written after a complete resolution tells
a finished directory from one an interrupted run left behind.
"""

from __future__ import annotations

import hashlib
import json
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

from dua.kafka.errors import BrokerError
from dua.kafka.locator import asset_dir
from dua.kafka.toolchain import require_tool

MARKER = "resolved.json"
RESOLVE_TIMEOUT_S = 1800.0
_VERSION = re.compile(r"^\d+\.\d+\.\d+(-[A-Za-z0-9.]+)?$")


@dataclass(frozen=True, slots=True)
class KafkaJars:
    """A complete set of broker jars for one Kafka version."""

    version: str
    directory: Path

    @property
    def classpath(self) -> str:
        """A `java -cp` value; the JVM expands the trailing `*` itself."""
        return str(self.directory / "*")


def cache_root(environ: Mapping[str, str]) -> Path:
    """`$DUA_CACHE_DIR`, else `$XDG_CACHE_HOME/dua`, else `~/.cache/dua`."""
    if environ.get("DUA_CACHE_DIR"):
        return Path(environ["DUA_CACHE_DIR"])
    if environ.get("XDG_CACHE_HOME"):
        return Path(environ["XDG_CACHE_HOME"]) / "dua"
    return Path.home() / ".cache" / "dua"


def _to_stderr(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


def resolve_jars(
    version: str, cache_dir: Path, *, progress: Callable[[str], None] = _to_stderr
) -> KafkaJars:
    """Return the jars of Kafka `version`, running Maven only when the cache lacks them."""
    if not _VERSION.match(version):
        raise BrokerError(f"Kafka version {version!r} is not a release number like 4.4.0")
    pom = asset_dir() / "pom.xml"
    digest = hashlib.sha256(pom.read_bytes()).hexdigest()
    target = cache_dir / f"kafka-{version}"
    cached = read_marker(target, version, digest)
    if cached is not None:
        return cached
    mvn = require_tool("mvn")
    progress(
        f"dua: resolving Apache Kafka {version} jars with Maven into {target} "
        "(first time only; this takes a while)"
    )
    started = time.monotonic()
    cache_dir.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".kafka-{version}-", dir=cache_dir))
    try:
        shutil.copyfile(pom, staging / "pom.xml")
        _copy_dependencies(mvn, staging, version)
        write_marker(staging, version, digest)
        _publish(staging, target, version, digest)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    jars = read_marker(target, version, digest)
    if jars is None:
        raise BrokerError(
            f"the resolved Kafka jars in {target} are incomplete; delete it and retry"
        )
    progress(f"dua: resolved Kafka {version} jars in {time.monotonic() - started:.1f} s")
    return jars


def read_marker(directory: Path, version: str, pom_digest: str) -> KafkaJars | None:
    """The jars in `directory` if its marker matches this version and pom and every jar is there."""
    try:
        marker = json.loads((directory / MARKER).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(marker, dict) or marker.get("kafka_version") != version:
        return None
    if marker.get("pom_sha256") != pom_digest:
        return None
    names = marker.get("jars")
    if not isinstance(names, list) or not names:
        return None
    if not all((directory / "jars" / str(name)).is_file() for name in names):
        return None
    return KafkaJars(version=version, directory=directory / "jars")


def write_marker(directory: Path, version: str, pom_digest: str) -> None:
    """Record that `directory/jars` holds a complete resolution (call only after one)."""
    names = sorted(path.name for path in (directory / "jars").glob("*.jar"))
    if not any(name.startswith(f"kafka_2.13-{version}") for name in names):
        raise BrokerError(f"Maven finished but no kafka_2.13-{version} jar is in {directory}")
    marker = {"kafka_version": version, "pom_sha256": pom_digest, "jars": names}
    (directory / MARKER).write_text(json.dumps(marker, indent=2) + "\n", encoding="utf-8")


def _copy_dependencies(mvn: str, workdir: Path, version: str) -> None:
    command = [
        mvn,
        "--batch-mode",
        "--quiet",
        "--file",
        str(workdir / "pom.xml"),
        f"-Dkafka.version={version}",
        "dependency:copy-dependencies",
        "-DincludeScope=runtime",
        f"-DoutputDirectory={workdir / 'jars'}",
    ]
    try:
        done = subprocess.run(
            command,
            cwd=workdir,
            capture_output=True,
            text=True,
            timeout=RESOLVE_TIMEOUT_S,
            check=False,
        )
    except subprocess.TimeoutExpired:
        raise BrokerError(
            f"Maven did not resolve Kafka {version} within {RESOLVE_TIMEOUT_S:.0f} s"
        ) from None
    if done.returncode != 0:
        tail = "\n".join((done.stdout + done.stderr).strip().splitlines()[-15:])
        raise BrokerError(
            f"Maven could not resolve org.apache.kafka:kafka_2.13:{version} "
            f"(exit status {done.returncode}):\n{tail}"
        )


def _publish(staging: Path, target: Path, version: str, pom_digest: str) -> None:
    """Move a complete resolution into place, replacing a stale or interrupted one."""
    if target.exists() and read_marker(target, version, pom_digest) is None:
        shutil.rmtree(target)
    try:
        staging.rename(target)
    except OSError:
        # Another process published the same version first; its copy is as good as ours.
        if read_marker(target, version, pom_digest) is None:
            raise
