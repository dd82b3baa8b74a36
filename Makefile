# The README's two commands are `make demo` and `make test`; both set up what they need.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
CONSTRAINTS := requirements/constraints.txt
COMPONENTS := -e ./schemas -e ./policy -e ./producers/python -e ./stream_processors -e ./sinks -e ./compliance
STAMP := $(VENV)/.installed
NATIVE_STAMP := $(VENV)/.native
# the two native crates (one cargo workspace, Cargo.toml): byte-level Avro, the processor's path
NATIVE_CRATES := schemas/native stream_processors/native
NATIVE_SOURCES := Cargo.toml rustfmt.toml $(foreach c,$(NATIVE_CRATES),$(c)/Cargo.toml $(c)/pyproject.toml $(wildcard $(c)/src/*.rs))
# pyo3 builds against the venv's interpreter (cargo clippy and cargo test, like maturin)
CARGO_ENV := PYO3_PYTHON=$(abspath $(BIN)/python)

# Debian packages the tests use: promtool/Prometheus and Alertmanager for the alerting tests,
# Chromium to render the HTML report headless and to drive the console's browser tests,
# PostgreSQL for the console's database tests (they start their own server in a temp dir).
# Installed when missing and we are root (CI, dev boxes).
SYSTEM_PACKAGES := prometheus prometheus-alertmanager chromium postgresql
SYSTEM_COMMANDS := promtool prometheus-alertmanager chromium pg_ctlcluster

.PHONY: setup system-deps test lint typecheck unit integration demo bench clean

setup: system-deps $(STAMP) $(NATIVE_STAMP)

system-deps:
	@missing=""; for c in $(SYSTEM_COMMANDS); do command -v $$c >/dev/null 2>&1 || missing="$$missing $$c"; done; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = "0" ]; then \
	    echo "setup: installing Debian packages for:$$missing"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $(SYSTEM_PACKAGES) >/dev/null; \
	  else \
	    echo "setup: missing$$missing; run: sudo apt-get install $(SYSTEM_PACKAGES)" >&2; \
	  fi; \
	fi

$(STAMP): pyproject.toml schemas/pyproject.toml policy/pyproject.toml producers/python/pyproject.toml \
          stream_processors/pyproject.toml sinks/pyproject.toml compliance/pyproject.toml $(CONSTRAINTS)
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet -c $(CONSTRAINTS) $(COMPONENTS) -e '.[dev]'
	@touch $(STAMP)
	@echo "setup: $(BIN)/dua is ready"

# The native builds (Rust): optional. schemas/native: Avro readers and writers (~5x faster
# decoding); stream_processors/native: the processor's per-event access path (see
# stream_processors/README.md for its figures). Without cargo the Python code is used; it
# gives the same results.
$(NATIVE_STAMP): $(STAMP) $(NATIVE_SOURCES)
	@if command -v cargo >/dev/null 2>&1; then \
	  echo "setup: building the native builds (schemas/native: Avro; stream_processors/native: the processor's access path; cargo, first time ~1 min)"; \
	  $(BIN)/python -m pip install --quiet --force-reinstall --no-deps $(addprefix ./,$(NATIVE_CRATES)) || exit 1; \
	else \
	  echo "setup: cargo not found: Avro and the processor's per-event work run in Python (same results, slower)"; \
	fi
	@touch $(NATIVE_STAMP)

lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	@if command -v cargo >/dev/null 2>&1; then \
	  cargo fmt --all --check && $(CARGO_ENV) cargo clippy --workspace --all-targets -- -D warnings; \
	else \
	  echo "lint: cargo not found: the Rust code is not checked"; \
	fi

typecheck: setup
	$(BIN)/mypy

# pytest's exit status 5 means "no tests collected": for CI that is a failure, not a pass.
test: lint typecheck
	@if command -v cargo >/dev/null 2>&1; then $(CARGO_ENV) cargo test --workspace --quiet || exit 1; fi
	@$(BIN)/python -m pytest; rc=$$?; \
	if [ $$rc -eq 5 ]; then echo "make test: pytest collected no tests" >&2; exit 1; fi; \
	exit $$rc

unit: setup
	$(BIN)/python -m pytest tests/unit

integration: setup
	$(BIN)/python -m pytest tests/integration

demo: setup
	$(BIN)/dua demo --console

bench: setup
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) .dua .pytest_cache .mypy_cache .ruff_cache

# The Java SDK (producers/java): Maven, its dependencies cached outside the repository (the
# first run resolves them; later runs work offline with MVN_FLAGS=-o).
MAVEN_REPO ?= $(HOME)/.cache/dua/maven
MVN_FLAGS ?=
MVN := mvn -B -q -f producers/java/pom.xml -Dmaven.repo.local=$(MAVEN_REPO) $(MVN_FLAGS)
# the same to pytest (tests/conftest.py: java_classpath) and to `make bench` (bench/sdk_languages.py)
export MAVEN_REPO MVN_FLAGS

.PHONY: test-java conformance

# the Java SDK's unit tests and the conformance suite (no broker); its tests against the broker
# and the pipeline run in pytest (tests/integration/test_sdk_contract.py,
# tests/reliability/test_sdk_verdicts.py, once per SDK)
test-java:
	$(MVN) test

test: test-java

# rewrite producers/conformance/suite from the Python reference (only when the contract changes)
conformance: setup
	$(BIN)/python producers/conformance/generate.py

# The TypeScript SDK (producers/typescript): Node 20.19 or later and npm; its packages come from
# the npm registry at the versions of its package-lock.json (no download addresses in it). os-lock
# (the spool's fcntl lock) compiles a small C addon with node-gyp against the headers of the
# installed Node (npm_config_nodedir below), so nothing is fetched from outside the registry.
TS_SDK := producers/typescript
TS_STAMP := $(TS_SDK)/node_modules/.installed
NODE_PREFIX = $(shell node -p "require('path').resolve(process.execPath, '..', '..')" 2>/dev/null)

.PHONY: typescript-setup test-typescript

$(TS_STAMP): $(TS_SDK)/package.json $(TS_SDK)/package-lock.json
	@node -e "const [a,b]=process.versions.node.split('.').map(Number); process.exit(a>20||(a===20&&b>=19)?0:1)" 2>/dev/null || \
	  { echo "setup: the TypeScript SDK needs Node 20.19 or later (and npm) on PATH" >&2; exit 1; }
	cd $(TS_SDK) && npm_config_nodedir=$(NODE_PREFIX) npm ci --no-audit --no-fund --loglevel=error
	@touch $@

typescript-setup: $(TS_STAMP)

# strict type check, the generated contract types' freshness, the conformance suite and the
# client's unit tests (no broker); its tests against the broker and the pipeline run in pytest
# (tests/integration/test_sdk_contract.py, tests/reliability/test_sdk_verdicts.py, once per SDK)
test-typescript: typescript-setup
	cd $(TS_SDK) && npm test

test: test-typescript

# The Go SDK (producers/go): Go 1.26; its modules come through the Go module proxy into the
# default module cache (outside the repository), at the versions of its go.sum.
GO_SDK := producers/go

.PHONY: test-go

# gofmt, go vet, the conformance suite and the client's tests on an in-process broker (kfake);
# its tests against the real broker run in pytest (tests/integration/test_sdk_contract.py,
# tests/reliability/test_sdk_verdicts.py, once per SDK)
test-go:
	@command -v go >/dev/null 2>&1 || { echo "test-go: the Go SDK needs Go 1.26 (go) on PATH" >&2; exit 1; }
	@cd $(GO_SDK) && unformatted="$$(gofmt -l .)" && \
	  if [ -n "$$unformatted" ]; then echo "gofmt: not formatted: $$unformatted" >&2; exit 1; fi
	cd $(GO_SDK) && go vet ./... && go test ./...

test: test-go
