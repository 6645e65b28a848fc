# make test-vm: the BPF tests again inside Debian kernels booted under qemu (README: "Testing
# on other kernels"). Included by the top-level Makefile.
#   VM_KERNELS  Debian kernel packages to boot, one VM each (metapackages resolve to the
#               version apt would install)
#   VM_CACHE    where built images are kept, keyed by their inputs; `make clean-vm` empties it
VM_KERNELS ?= linux-image-amd64 linux-image-6.12-amd64
VM_CACHE ?= $(or $(XDG_CACHE_HOME),$(HOME)/.cache)/bpfwatch/vm
VM_DEBS := qemu-system-x86 debootstrap cpio kmod xz-utils zstd python3 gcc make binutils
VM_STAMP := target/.vm-deps-ok

.PHONY: test-vm vm-build vm-image clean-vm

$(VM_STAMP): $(STAMP)
	@missing=$$(for p in $(VM_DEBS); do dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q '^install ok installed' || echo $$p; done); \
	if [ -n "$$missing" ]; then \
	  echo "installing: $$missing"; \
	  DEBIAN_FRONTEND=noninteractive apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing; \
	fi
	@touch $@

# What the guest runs, shared read-only: classes, test classes, BPF objects, the packaged
# daemon (for `bpfwatch probe`), and the test classpath copied to target/vm/lib.
vm-build: $(VM_STAMP) $(ZFS_CLIENT)
	$(MVN) $(MVN_FLAGS) -DskipTests package dependency:copy-dependencies dependency:build-classpath \
	  -DincludeScope=test -DoutputDirectory=target/vm/lib \
	  -Dmdep.outputFile=target/vm/classpath -Dmdep.prefix=target/vm/lib

test-vm: vm-build
	VM_KERNELS="$(VM_KERNELS)" VM_CACHE="$(VM_CACHE)" vm/suite.sh

vm-image: $(VM_STAMP)
	@for k in $(VM_KERNELS); do vm/image.sh "$(VM_CACHE)" $$k || exit 1; done

clean-vm:
	rm -rf "$(VM_CACHE)" target/vm

# bench/dns_hooks.py (the dns monitor's system-call tracepoints against its socket-layer
# fentry hooks) inside each VM_KERNELS guest: tables to target/vm/bench/dns-hooks-RELEASE.md.
.PHONY: bench-dns-hooks-vm
bench-dns-hooks-vm: vm-build $(WORKLOAD)
	@for k in $(VM_KERNELS); do \
	  image=$$(vm/image.sh "$(VM_CACHE)" $$k) || exit 1; \
	  VM_TIMEOUT=$${VM_TIMEOUT:-3600} vm/boot.sh "$$image" target/vm/bench-$$k vm/guest-bench-dns-hooks.sh || exit 1; \
	  mkdir -p target/vm/bench && cp target/vm/bench-$$k/dns-hooks-*.md target/vm/bench/; \
	done
	@cat target/vm/bench/dns-hooks-*.md
