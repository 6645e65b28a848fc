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

.PHONY: all deps build run test test-unit fuzz clean check probe

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
	$(MAKE) --no-print-directory fuzz

# Bounded coverage-guided fuzzing (Jazzer): each @FuzzTest method in fuzzing mode for the
# maxDuration its annotation gives. A crash is written next to the test as a regression
# input (src/test/resources/.../<Class>Inputs/<method>/) and fails the run; regression
# inputs are replayed by every plain `mvn test`.
FUZZ_TESTS = $(shell grep -rl '@FuzzTest' src/test/java | while read f; do 	  c=$$(echo $$f | sed -e 's|src/test/java/||' -e 's|\.java$$||' -e 's|/|.|g'); 	  grep -A3 '@FuzzTest' $$f | grep -oE 'void [a-zA-Z0-9_]+' | sed "s|void |$$c\#|"; done)
fuzz: deps
	@set -e; for t in $(FUZZ_TESTS); do 	  echo "fuzzing $$t"; 	  JAZZER_FUZZ=1 $(MVN) $(MVN_FLAGS) -q surefire:test -Dtest="$$t" -Dsurefire.failIfNoSpecifiedTests=false; 	done

test-unit: deps
	$(MVN) $(MVN_FLAGS) test

clean:
	rm -rf target var
