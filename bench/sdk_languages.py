"""Cost of the Java, TypeScript and Go SDKs' `emit` per event, each beside a raw produce of the
same bytes with that language's own Kafka client.

Each language's benchmark program (`dua.producer.EmitBenchmark` of the Java SDK's test sources,
`producers/typescript/bench/emit.ts`, `producers/go/cmd/dua-emit-bench`) runs both in one
process, with the SDK's producer settings, on the same broker: the total per event until
everything is acknowledged, the median of timed rounds after a warm-up round. Target: at most
3x raw.

The builds are the ones the SDKs' pytest tests use: Maven (the repository in `MAVEN_REPO`,
default `~/.cache/dua/maven`, and `MVN_FLAGS`, as `make test-java`), `tsc` on the packages
`make typescript-setup` installs, and `go build`.

Run: `.venv/bin/python -m bench.sdk_languages {java,typescript,go} [--events N] [--rounds R]`.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import tempfile
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from bench.table import Row

from dua.kafka import ensure_topics

PRODUCERS: Final = Path(__file__).resolve().parent.parent / "producers"
JAVA_SDK: Final = PRODUCERS / "java"
TYPESCRIPT_SDK: Final = PRODUCERS / "typescript"
GO_SDK: Final = PRODUCERS / "go"
# `make typescript-setup` touches it once `npm ci` has installed the package-lock's versions.
TYPESCRIPT_SETUP_STAMP: Final = TYPESCRIPT_SDK / "node_modules" / ".installed"
TARGET_RATIO: Final = 3.0


class SdkBuildError(RuntimeError):
    """An SDK's program did not build."""


class ToolchainMissingError(SdkBuildError):
    """A tool an SDK's build needs is not installed (or its packages are not)."""


def _require(*tools: str, why: str) -> None:
    missing = [tool for tool in tools if shutil.which(tool) is None]
    if missing:
        raise ToolchainMissingError(f"{why}: {' and '.join(missing)} not found")


def _build(command: Sequence[str], what: str, cwd: Path | None = None) -> None:
    result = subprocess.run(command, cwd=cwd, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise SdkBuildError(f"{what} did not build:\n{result.stdout}{result.stderr}")


def java_classpath() -> str:
    """Compile the Java SDK and its test programs with Maven; their `java -cp` classpath."""
    _require("java", "mvn", why="the Java SDK needs a JDK and Maven")
    repository = os.environ.get("MAVEN_REPO") or str(Path.home() / ".cache" / "dua" / "maven")
    listing = JAVA_SDK / "target" / "classpath.txt"
    maven = ["mvn", "-B", "-q", "-f", str(JAVA_SDK / "pom.xml"), f"-Dmaven.repo.local={repository}"]
    goals = ["test-compile", "dependency:build-classpath", f"-Dmdep.outputFile={listing}"]
    _build([*maven, *os.environ.get("MVN_FLAGS", "").split(), *goals], "the Java SDK")
    target = JAVA_SDK / "target"
    parts = [str(target / "test-classes"), str(target / "classes"), listing.read_text().strip()]
    return os.pathsep.join(parts)


def typescript_build() -> Path:
    """Compile the TypeScript SDK with its test and bench scripts; the build directory."""
    _require("node", why="the TypeScript SDK needs Node 20.19 or later")
    if not TYPESCRIPT_SETUP_STAMP.is_file():
        raise ToolchainMissingError(
            "the TypeScript SDK's packages are not installed: run `make typescript-setup`"
        )
    tsc = TYPESCRIPT_SDK / "node_modules" / "typescript" / "bin" / "tsc"
    _build(["node", str(tsc), "-p", "tsconfig.test.json"], "the TypeScript SDK", TYPESCRIPT_SDK)
    return TYPESCRIPT_SDK / "build"


def go_program(name: str, out_dir: Path) -> Path:
    """`go build` of the Go SDK's program `cmd/<name>` into `out_dir`; its path."""
    _require("go", why="the Go SDK needs Go 1.26")
    binary = out_dir / name
    _build(["go", "build", "-o", str(binary), f"./cmd/{name}"], "the Go SDK", GO_SDK)
    return binary


@dataclass(frozen=True)
class Language:
    """One SDK's benchmark: how its program is built and run, and how its row reads."""

    name: str
    measure: str  # the row's name; `{events}` is the run's event count
    versus: str
    program: Callable[[Path], list[str]]  # builds it (scratch directory given); its command

    @property
    def key(self) -> str:
        """Where the run's figures go in `make bench`'s figures."""
        return f"{self.name}_sdk"


LANGUAGES: Final = (
    Language(
        "java",
        "Java SDK emit, total until flushed (JVM, {events:,} events)",
        "raw KafkaProducer.send, same bytes",
        lambda _: ["java", "-cp", java_classpath(), "dua.producer.EmitBenchmark"],
    ),
    Language(
        "typescript",
        "TypeScript SDK emit, total until flushed (Node, {events:,} events)",
        "raw @platformatic/kafka send, same bytes",
        lambda _: ["node", str(typescript_build() / "bench" / "emit.js")],
    ),
    Language(
        "go",
        "Go SDK emit, total until flushed ({events:,} events)",
        "raw franz-go produce, same bytes",
        lambda scratch: [str(go_program("dua-emit-bench", scratch))],
    ),
)
BY_NAME: Final = {language.name: language for language in LANGUAGES}


def run(
    language: Language, bootstrap: str, events: int = 50_000, rounds: int = 5
) -> dict[str, Any]:
    """Figures of one benchmark run of `language`'s SDK on the broker at `bootstrap`."""
    topics = [f"bench.{language.name}-{role}.{uuid.uuid4().hex[:8]}" for role in ("sdk", "raw")]
    ensure_topics(bootstrap, topics, partitions=4)
    with tempfile.TemporaryDirectory(prefix=f"dua-{language.name}-bench-") as scratch:
        command = [*language.program(Path(scratch)), bootstrap, *topics, str(events), str(rounds)]
        result = subprocess.run(command, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise RuntimeError(f"the {language.name} benchmark failed:\n{result.stderr[-4000:]}")
    figures: dict[str, Any] = json.loads(result.stdout.strip().splitlines()[-1])
    ratio = figures["sdk_us_per_event"] / figures["raw_us_per_event"]
    figures["sdk_to_raw_ratio"] = round(ratio, 2)
    figures["meets_ratio_target"] = figures["sdk_to_raw_ratio"] <= TARGET_RATIO
    return figures


def rows(figures: dict[str, Any]) -> list[Row]:
    """A row per language with figures in `figures`: its emit beside its raw produce."""
    return [
        Row(
            language.measure.format(events=emit["events"]),
            emit["sdk_us_per_event"],
            "µs/ev",
            language.versus,
            emit["raw_us_per_event"],
        )
        for language in LANGUAGES
        if (emit := figures.get(language.key)) is not None
    ]


def main(argv: Sequence[str] | None = None) -> None:
    """Print the figures as JSON (on DUA_KAFKA_BOOTSTRAP, else a local broker of its own)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("language", choices=sorted(BY_NAME))
    parser.add_argument("--events", type=int, default=50_000)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args(argv)
    from bench.sdk import kafka  # noqa: PLC0415 - the Python SDK's bench: its imports only here

    with kafka() as bootstrap:
        print(json.dumps(run(BY_NAME[args.language], bootstrap, args.events, args.rounds)))


if __name__ == "__main__":
    main()
