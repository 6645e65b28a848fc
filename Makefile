# bpfwatch: `make run` builds and starts the daemon on the shipped config; `make test` runs every test.
# Both install what is missing (Debian packages, Maven artifacts) first. Run as root.
SHELL := /bin/bash
MVN ?= mvn
MVN_FLAGS ?= -B -ntp
CONFIG ?= packaging/bpfwatch.yaml
LOGS_DIR ?= $(CURDIR)/var/log/bpfwatch

# What building and testing need from Debian. The dns tests run their own DNS server in a
# network namespace: dnsmasq-base is the bare binary, without the dnsmasq service that would
# take port 53 on the host.
DEBS := openjdk-17-jdk-headless maven make clang llvm libbpf1 libbpf-dev bpftool \
        iproute2 procps curl python3 \
        dnsmasq-base bind9-dnsutils
# The zfs monitor's tests drive the real OpenZFS userland client, built with gcc; Debian ships
# its libraries (2.1) in the contrib component, which deps enables when they are missing.
ZFS_DEBS := libzfs4linux libnvpair3linux libuutil3linux
DEBS += gcc libc6-dev util-linux mount $(ZFS_DEBS)
STAMP := target/.deps-ok

# Adds contrib to apt's Debian sources unless some source already has it (deb822 or one-line format).
ENABLE_CONTRIB = apt-get indextargets --format '$$(COMPONENT)' | grep -qx contrib || { \
	  echo "enabling Debian's contrib component (for: $(ZFS_DEBS))"; \
	  if [ -f /etc/apt/sources.list.d/debian.sources ]; then \
	    sed -i -E '/^Components:/{/(^|[[:space:]])contrib([[:space:]]|$$)/!s/$$/ contrib/}' /etc/apt/sources.list.d/debian.sources; \
	  else \
	    sed -i -E '/^deb[[:space:]].*debian/{/[[:space:]]contrib([[:space:]]|$$)/!s/$$/ contrib/}' /etc/apt/sources.list; \
	  fi; }

.PHONY: all deps build run test test-unit fuzz clean check probe

all: build

# apt-get only for what is missing, so repeated runs stay fast and offline.
deps: $(STAMP)
$(STAMP): Makefile
	@missing=$$(for p in $(DEBS); do dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q '^install ok installed' || echo $$p; done); \
	if [ -n "$$missing" ]; then \
	  echo "installing: $$missing"; \
	  if [ "$$(id -u)" != 0 ]; then echo "run as root to install: $$missing" >&2; exit 1; fi; \
	  for p in $$missing; do case " $(ZFS_DEBS) " in *" $$p "*) $(ENABLE_CONTRIB); break;; esac; done; \
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

# Unit tests and fuzzing (surefire), then the packaged daemon's integration tests (failsafe).
# Tests that need root and BPF skip with a reason, unless BPFWATCH_REQUIRE_BPF=1 (CI).
# Fuzzing: every *Fuzzer class runs Jazzer in fuzzing mode for bpfwatch.fuzz.duration (30 s)
# in its own JVM; a crash is saved next to the test as a regression input and fails the run.
test: deps
	$(MVN) $(MVN_FLAGS) verify

# Fuzz longer: make fuzz FUZZ=10m
FUZZ ?= 5m
fuzz: deps
	$(MVN) $(MVN_FLAGS) test -Dbpfwatch.fuzz.duration=$(FUZZ)

test-unit: deps
	$(MVN) $(MVN_FLAGS) test

clean:
	rm -rf target var
