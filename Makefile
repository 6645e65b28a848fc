# bpfwatch: `make run` builds and starts the daemon on the shipped config; `make test` runs every test.
# Both install what is missing (Debian packages, Maven artifacts) first. Run as root.
SHELL := /bin/bash
MVN ?= mvn
MVN_FLAGS ?= -B -ntp
CONFIG ?= packaging/bpfwatch.yaml
LOGS_DIR ?= $(CURDIR)/var/log/bpfwatch

# What building and testing need from Debian. The dns tests run their own DNS server in a
# network namespace: dnsmasq-base is the bare binary, without the dnsmasq service that would
# take port 53 on the host. bpftrace: the bpftrace kind's tests run scripts with it (and make
# bench compares against it).
DEBS := openjdk-17-jdk-headless maven make clang llvm libbpf1 libbpf-dev bpftool \
        iproute2 procps curl python3 bpftrace \
        dnsmasq-base bind9-dnsutils \
        systemd systemd-container debootstrap lintian
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

.PHONY: all deps build run test test-unit fuzz soak bench bench-dns-hooks bench-custom bench-context bench-export bench-jvm bench-threads bench-profile bench-stop bench-hooks bench-jmh clean check probe deb package-deb install install-files uninstall

VERSION := $(shell sed -n 's:^  <version>\(.*\)</version>:\1:p' pom.xml | head -n1)
DEB := target/bpfwatch_$(VERSION)_all.deb

# Source installs (`make install`) go under /usr/local; the .deb uses PREFIX=/usr.
PREFIX ?= /usr/local
BINDIR ?= $(PREFIX)/bin
LIBDIR ?= $(PREFIX)/lib/bpfwatch
UNITDIR ?= $(PREFIX)/lib/systemd/system
DOCDIR ?= $(PREFIX)/share/doc/bpfwatch
MANDIR ?= $(PREFIX)/share/man
SYSCONFDIR ?= /etc
DESTDIR ?=

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

# Packaging tests keep what is slow to make here between runs: the debootstrapped container
# image (keyed by its recipe) and promtool.
TEST_CACHE ?= $(CURDIR)/target/test-cache
PROMTOOL := $(TEST_CACHE)/promtool/promtool

# Unit tests and fuzzing (surefire), then the packaged daemon's integration tests (failsafe),
# the .deb under real systemd among them. Tests that need root and BPF skip with a reason,
# unless BPFWATCH_REQUIRE_BPF=1 (CI). Fuzzing: every fuzz target runs Jazzer in fuzzing mode
# for bpfwatch.fuzz.duration (30 s) in its own JVM; a crash is saved next to the test as a
# regression input and fails the run. Signals at their defaults whoever started make (a script's
# background job inherits INT ignored, nohup HUP): tests press Ctrl+C as a person at a terminal.
test: deps $(PROMTOOL)
	env --default-signal=HUP,INT,TERM $(MVN) $(MVN_FLAGS) verify -Dbpfwatch.test.cache=$(TEST_CACHE) -Dbpfwatch.promtool=$(PROMTOOL)

# promtool out of Debian's prometheus package, unpacked: installing that package would also
# install and start a Prometheus server.
$(PROMTOOL):
	mkdir -p $(@D)
	cd $(@D) && rm -f prometheus_*.deb && \
	  { apt-get download -q prometheus 2>/dev/null || { apt-get update -qq && apt-get download -q prometheus; }; } && \
	  dpkg-deb --fsys-tarfile prometheus_*.deb | tar -xO ./usr/bin/promtool > promtool.new && \
	  chmod 0755 promtool.new && mv promtool.new promtool && rm -f prometheus_*.deb

# Fuzz longer: make fuzz FUZZ=10m
FUZZ ?= 5m
fuzz: deps
	$(MVN) $(MVN_FLAGS) test -Dbpfwatch.fuzz.duration=$(FUZZ)

# The packaged daemon at 50k events/s for SOAK_SECONDS (10 min): RSS, threads and fds stay
# within 10% and nothing is lost. .ci/run runs it after make test.
SOAK_SECONDS ?= 600
soak: deps
	$(MVN) $(MVN_FLAGS) verify -Dtest=NONE -Dsurefire.failIfNoSpecifiedTests=false -Dit.test=SoakIT -Dsoak.seconds=$(SOAK_SECONDS)

# bpfwatch against bpftrace and an untraced baseline on the same workloads (minutes; not part of
# `make test`): prints the table, writes bench/results/latest.{md,csv,png}. BENCH_QUICK=1 for a
# smoke run, BENCH_REPS=N repetitions (default 3). See docs/benchmarks.md.
BENCH_DEBS := python3-matplotlib
# The workload generator every bench script drives (connects, DNS queries, ioctls).
WORKLOAD := target/bench/workload
$(WORKLOAD): bench/workload.c
	mkdir -p target/bench
	gcc -O2 -Wall -Werror -pthread -o $@ $<
bench: build $(WORKLOAD)
	@missing=$$(for p in $(BENCH_DEBS); do dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q '^install ok installed' || echo $$p; done); \
	if [ -n "$$missing" ]; then echo "installing: $$missing"; \
	  DEBIAN_FRONTEND=noninteractive apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing; fi
	/usr/bin/python3 bench/run.py

# Custom monitors (kind: bpftrace, kind: libbpf) against the same program run by bpftrace alone,
# and the built-in zfs monitor, on the zfs-ioctl workload: writes bench/results/custom.md.
bench-custom: build $(WORKLOAD)
	@missing=$$(for p in $(BENCH_DEBS); do dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q '^install ok installed' || echo $$p; done); \
	if [ -n "$$missing" ]; then echo "installing: $$missing"; \
	  DEBIAN_FRONTEND=noninteractive apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing; fi
	clang -g -O2 -target bpf -D__TARGET_ARCH_x86 -Wall -Werror -Imonitors/include -c bench/custom/ioctl.bpf.c -o target/bench/ioctl.bpf.o
	/usr/bin/python3 bench/custom.py

# What event context costs: the bench workloads with each monitor's default context against
# context: [] (bench/context.py): writes bench/results/context.md.
bench-context: build $(WORKLOAD)
	/usr/bin/python3 bench/context.py

# What export.otlp costs per event: every event also sent as an OTLP log record to a sink on
# loopback (bench/export.py): writes bench/results/export.md.
bench-export: build $(WORKLOAD)
	/usr/bin/python3 bench/export.py

# The dns monitor's system-call tracepoints against its socket-layer fentry hooks (where this
# kernel has fentry), per operation (bench/dns_hooks.py): writes bench/results/dns-hooks-RELEASE.md.
# make bench-dns-hooks-vm runs it in the Debian kernels of make test-vm.
bench-dns-hooks: build $(WORKLOAD)
	/usr/bin/python3 bench/dns_hooks.py

# What the JVM's options change: start to READY, the first 200k events after start against the
# same events warm, warm CPU per event, RSS and VmHWM, for the shipped flags, C1 only and an
# AppCDS archive (BENCH_JDK21=<JDK 21 home> adds JDK 21): writes bench/results/jvm.md.
bench-jvm: build $(WORKLOAD)
	/usr/bin/python3 bench/jvm.py

# Where a warm daemon's CPU goes per event, thread by thread, at given rates (bench/threads.py;
# BENCH_THREADS=workload:rate,...): writes bench/results/threads.md.
bench-threads: build $(WORKLOAD)
	/usr/bin/python3 bench/threads.py

# Where a warm daemon's CPU goes, by thread and frame, under one workload: async-profiler (from
# Maven Central) attached to it (bench/profile.py; BENCH_PROFILE_MODE=tcp4|dns-sendto|zfs-ioctl...):
# writes bench/results/profile-MODE.md and target/bench/profile-MODE.collapsed.
bench-profile: build $(WORKLOAD)
	/usr/bin/python3 bench/profile.py

# How long SIGTERM to exit takes over 50 start/stop cycles (bench/stop.py; BENCH_STOP_LOAD=1
# under a connect storm): writes bench/results/stop.md.
bench-stop: build
	/usr/bin/python3 bench/stop.py

# What each kind of system-call hook costs every call (bench/hookcost): the perf-event syscall
# tracepoints bpfwatch uses against one BTF or raw tracepoint on all system calls.
bench-hooks: deps
	mkdir -p target/bench
	bpftool btf dump file /sys/kernel/btf/vmlinux format c > target/bench/vmlinux.h
	clang -g -O2 -target bpf -D__TARGET_ARCH_x86 -Wall -Werror -Itarget/bench -c bench/hookcost/hookcost.bpf.c -o target/bench/hookcost.bpf.o
	gcc -O2 -Wall -Werror -o target/bench/hookcost bench/hookcost/hookcost.c -lbpf
	target/bench/hookcost target/bench/hookcost.bpf.o

# JMH benchmarks of the hot paths (ring reader, decoders, DNS and nvlist parsing, JSON lines),
# with allocation per operation (-prof gc). JMH_ARGS to choose: make bench-jmh JMH_ARGS='Ring -f 2'
JMH_ARGS ?= -prof gc
bench-jmh: deps
	$(MVN) $(MVN_FLAGS) -q -Pjmh compile dependency:build-classpath -Dmdep.outputFile=target/jmh/classpath
	java -cp target/jmh/classes:$$(cat target/jmh/classpath) org.openjdk.jmh.Main $(JMH_ARGS)

# The real OpenZFS client the zfs tests drive (ZfsClient builds it too when it is stale; the
# VM suite needs it built on the host, where gcc and the headers are).
ZFS_CLIENT := target/zfsclient/zfsclient
$(ZFS_CLIENT): src/test/c/zfsclient.c | deps
	mkdir -p $(@D)
	gcc -O1 -Wall -Werror -o $@ $< -l:libzfs_core.so.3 -l:libnvpair.so.3

test-unit: deps
	$(MVN) $(MVN_FLAGS) test

# bpfwatch_VERSION_all.deb, laid out by install-files and packed by dpkg-deb.
deb: build
	$(MAKE) --no-print-directory package-deb

# The .deb from an existing build (Maven runs this before the integration tests).
package-deb:
	packaging/deb/build-deb $(VERSION) target

install: build
	$(MAKE) --no-print-directory install-files
	@if [ -z "$(DESTDIR)" ] && [ -d /run/systemd/system ]; then systemctl daemon-reload; fi
	@echo "installed; edit $(SYSCONFDIR)/bpfwatch/bpfwatch.yaml, then: systemctl enable --now bpfwatch"

# The files alone, from an existing build. The unit's paths follow BINDIR and SYSCONFDIR.
# An existing config is the admin's: it is kept, and the new default lands beside it.
install-files:
	@test -f target/quarkus-app/quarkus-run.jar || { echo "no build: run make build first" >&2; exit 1; }
	install -d -m 0755 $(DESTDIR)$(BINDIR) $(DESTDIR)$(LIBDIR) $(DESTDIR)$(UNITDIR) \
	    $(DESTDIR)$(DOCDIR)/examples $(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(SYSCONFDIR)/bpfwatch
	cp -R target/quarkus-app/. $(DESTDIR)$(LIBDIR)/
	chmod -R u=rwX,go=rX $(DESTDIR)$(LIBDIR)
	install -m 0755 packaging/bpfwatch.sh $(DESTDIR)$(BINDIR)/bpfwatch
	install -m 0644 packaging/bpfwatch.1 $(DESTDIR)$(MANDIR)/man1/bpfwatch.1
	sed -e 's:/usr/bin/bpfwatch:$(BINDIR)/bpfwatch:g' -e 's:/etc/bpfwatch/:$(SYSCONFDIR)/bpfwatch/:g' \
	    -e 's:/usr/share/doc/bpfwatch/:$(DOCDIR)/:g' \
	    packaging/systemd/bpfwatch.service > $(DESTDIR)$(UNITDIR)/bpfwatch.service
	chmod 0644 $(DESTDIR)$(UNITDIR)/bpfwatch.service
	if [ -e $(DESTDIR)$(SYSCONFDIR)/bpfwatch/bpfwatch.yaml ]; then \
	    install -m 0644 packaging/bpfwatch.yaml $(DESTDIR)$(SYSCONFDIR)/bpfwatch/bpfwatch.yaml.default; \
	    echo "kept $(SYSCONFDIR)/bpfwatch/bpfwatch.yaml; the new default is bpfwatch.yaml.default"; \
	else install -m 0644 packaging/bpfwatch.yaml $(DESTDIR)$(SYSCONFDIR)/bpfwatch/bpfwatch.yaml; fi
	install -m 0644 README.md $(DESTDIR)$(DOCDIR)/README.md
	install -m 0644 packaging/logrotate/bpfwatch $(DESTDIR)$(DOCDIR)/examples/logrotate
	install -m 0644 packaging/prometheus/bpfwatch-alerts.yml $(DESTDIR)$(DOCDIR)/examples/prometheus-alerts.yml
	install -m 0644 packaging/grafana/bpfwatch.json $(DESTDIR)$(DOCDIR)/examples/grafana-dashboard.json
	install -d -m 0755 $(DESTDIR)$(DOCDIR)/examples/monitors
	install -m 0644 monitors/examples/*.bt monitors/examples/*.yaml $(DESTDIR)$(DOCDIR)/examples/monitors/

# Stops and disables a running source install first; keeps an edited config and the logs.
uninstall:
	@if [ -z "$(DESTDIR)" ] && [ -d /run/systemd/system ] && [ -e $(UNITDIR)/bpfwatch.service ]; then \
	    systemctl disable --now bpfwatch.service || true; fi
	rm -rf $(DESTDIR)$(LIBDIR) $(DESTDIR)$(DOCDIR)
	rm -f $(DESTDIR)$(BINDIR)/bpfwatch $(DESTDIR)$(UNITDIR)/bpfwatch.service $(DESTDIR)$(MANDIR)/man1/bpfwatch.1 \
	    $(DESTDIR)$(SYSCONFDIR)/bpfwatch/bpfwatch.yaml.default
	@if cmp -s packaging/bpfwatch.yaml $(DESTDIR)$(SYSCONFDIR)/bpfwatch/bpfwatch.yaml; then \
	    rm -f $(DESTDIR)$(SYSCONFDIR)/bpfwatch/bpfwatch.yaml; rmdir $(DESTDIR)$(SYSCONFDIR)/bpfwatch 2>/dev/null || true; \
	elif [ -e $(DESTDIR)$(SYSCONFDIR)/bpfwatch/bpfwatch.yaml ]; then \
	    echo "kept the edited $(SYSCONFDIR)/bpfwatch/bpfwatch.yaml"; fi
	@if [ -z "$(DESTDIR)" ] && [ -d /run/systemd/system ]; then systemctl daemon-reload; fi

clean:
	rm -rf target var

include vm/vm.mk
