# The `dua` application with every component: one image for the processor, the sink, the
# notifier and the one-off commands (`dua db migrate`, `dua query`, ...). docker-compose.yml
# picks the process with the command, e.g. `run processor`.

# The native builds as wheels for CPython 3.11: schemas/native (Rust + PyO3: the Avro readers
# and writers, decoding ~5x faster) and stream_processors/native (the processor's per-event
# access path, built on the first: one cargo workspace, the root Cargo.toml). Debian
# bookworm's python3 is 3.11; the wheels need glibc 2.36 or newer, which the image below has.
# pyo3 needs Rust 1.85 or newer.
FROM rust:1.85-slim-bookworm AS native
RUN apt-get update \
    && apt-get install -y --no-install-recommends python3 python3-venv \
    && rm -rf /var/lib/apt/lists/*
RUN python3 -m venv /opt/maturin && /opt/maturin/bin/pip install --no-cache-dir maturin==1.16.0
WORKDIR /src
COPY Cargo.toml ./
COPY schemas/native/ schemas/native/
COPY stream_processors/native/ stream_processors/native/
RUN for crate in schemas/native stream_processors/native; do \
        /opt/maturin/bin/maturin build --release --interpreter python3 --out /wheels \
            --manifest-path "$crate/Cargo.toml" || exit 1; \
    done

FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /opt/dua

# Components first (they change less often than the application), with the exact versions
# every environment of the repository installs.
COPY requirements/constraints.txt requirements/constraints.txt
COPY schemas/ schemas/
COPY policy/ policy/
COPY producers/python/ producers/python/
COPY stream_processors/ stream_processors/
COPY sinks/ sinks/
COPY compliance/ compliance/
COPY --from=native /wheels/ /tmp/wheels/
RUN pip install -c requirements/constraints.txt ./schemas ./policy ./producers/python \
        ./stream_processors ./sinks ./compliance \
        /tmp/wheels/*.whl \
    && rm -rf /tmp/wheels

# The application; its wheel carries deploy/kafka (the local broker's assets).
COPY pyproject.toml README.md ./
COPY src/ src/
COPY deploy/kafka/ deploy/kafka/
RUN pip install -c requirements/constraints.txt . \
    && dua --help > /dev/null \
    && dua version | grep -q "native Avro readers" \
    && dua version | grep -q "native access path"

# An unprivileged user; state (Faust tables, the sink's batch plan) under /var/lib/dua.
RUN useradd --system --uid 10001 --home-dir /var/lib/dua --create-home dua
USER dua
WORKDIR /var/lib/dua
ENV DUA_STATE_DIR=/var/lib/dua

ENTRYPOINT ["dua"]
CMD ["--help"]
