# The `dua` application with every component: one image for the processor, the sink, the
# notifier and the one-off commands (`dua db migrate`, `dua query`, ...). docker-compose.yml
# picks the process with the command, e.g. `run processor`.
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
COPY producers/ producers/
COPY stream_processors/ stream_processors/
COPY sinks/ sinks/
RUN pip install -c requirements/constraints.txt ./schemas ./producers ./stream_processors ./sinks

# The application; its wheel carries deploy/kafka (the local broker's assets).
COPY pyproject.toml README.md ./
COPY src/ src/
COPY deploy/kafka/ deploy/kafka/
RUN pip install -c requirements/constraints.txt . \
    && dua --help > /dev/null

# An unprivileged user; state (Faust tables, the sink's batch plan) under /var/lib/dua.
RUN useradd --system --uid 10001 --home-dir /var/lib/dua --create-home dua
USER dua
WORKDIR /var/lib/dua
ENV DUA_STATE_DIR=/var/lib/dua

ENTRYPOINT ["dua"]
CMD ["--help"]
