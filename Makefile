# bpfwatch: `make run` builds and starts the daemon on the shipped config; `make test` runs every test.
# Both install what is missing (Debian packages, Maven artifacts) first. Run as root.
SHELL := /bin/bash
MVN ?= mvn
MVN_FLAGS ?= -B -ntp
CONFIG ?= packaging/bpfwatch.yaml
LOGS_DIR ?= $(CURDIR)/var/log/bpfwatch

# What building and testing need from Debian.
DEBS := openjdk-17-jdk-headless maven make clang llvm libbpf1 libbpf-dev bpftool \
        iproute2 procps curl python3
STAMP := target/.deps-ok

.PHONY: all deps build run test test-unit clean check probe

all: build

# apt-get only for what is missing, so repeated runs stay fast and offline.
deps: $(STAMP)
$(STAMP):
	@missing=$$(for p in $(DEBS); do dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q '^install ok installed' || echo $$p; done); \
	if [ -n "$$missing" ]; then \
	  echo "installing: $$missing"; \
	  if [ "$$(id -u)" != 0 ]; then echo "run as root to install: $$missing" >&2; exit 1; fi; \
	  DEBIAN_FRONTEND=noninteractive apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing; \
	fi
	@mkdir -p target && touch $@

# target/bpfwatch: the launcher over target/quarkus-app (BPF objects are built by Maven).
build: deps
	$(MVN) $(MVN_FLAGS) -DskipTests package

run: build
	mkdir -p $(LOGS_DIR)
	exec target/bpfwatch run --config $(CONFIG) --logs-dir $(LOGS_DIR)

check: build
	target/bpfwatch check --config $(CONFIG)

probe: build
	target/bpfwatch probe

# Unit tests (surefire), then the packaged daemon's integration tests (failsafe).
# Tests that need root and BPF skip with a reason, unless BPFWATCH_REQUIRE_BPF=1 (CI).
test: deps
	$(MVN) $(MVN_FLAGS) verify

test-unit: deps
	$(MVN) $(MVN_FLAGS) test

clean:
	rm -rf target var

include vm/vm.mk
