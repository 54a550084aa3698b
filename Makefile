# SPDX-License-Identifier: Apache-2.0
# corral — one plain Makefile.  Objects go under $(BUILD) (default build/).
#
#   make            build corrald, corral, corral-run and corral-init (the jails' pid 1)
#   make format     apply .clang-format (make format-check: fail on a difference)
#   make check-layering  the include rules and exported names of supervisor/README.md
#   make check      build and run every test (unit, integration; root-only tests skip loudly)
#   make check-v2   the cgroup and corrald integration tests on pure cgroup v2, in a VM
#                   with Debian's kernel (tests/vm/run.sh; qemu, root; CHECK_V2_TESTS)
#   make asan       the same under AddressSanitizer + UndefinedBehaviorSanitizer
#   make fuzz       build the libFuzzer targets with clang and run each for FUZZ_SECONDS
#                   (per target: 5 targets x 30 s = 2.5 min by default)
#   make fuzz-long  run each libFuzzer target to FUZZ_RUNS executions (default 10 M)
#   make bench      build and run the benchmarks in tests/bench/
#   make bench-cluster-sim  the cluster scheduler's rounds, PostgreSQL vs SQLite (no root)
#   make soak       a mixed workload against a real corrald (SOAK_SECONDS, default 600)
#   make deps       install the Debian -dev packages that pkg-config cannot find
#   make install    PREFIX=/usr/local DESTDIR=

PREFIX  ?= /usr/local
# where make install puts corral-init; compiled into the runner (build and
# install with the same PREFIX)
LIBEXECDIR ?= $(PREFIX)/libexec/corral
SYSTEMD_UNIT_DIR ?= /etc/systemd/system
DESTDIR ?=
BUILD   ?= build
CC      ?= gcc
FUZZ_SECONDS ?= 30

PKGS := libseccomp libcgroup libnl-3.0 libnl-route-3.0 sqlite3 libpq inih jansson libmicrohttpd nettle libcurl
# postgresql: the server the PostgreSQL store's tests start (tests/lib/pg.c)
# bubblewrap: the peer tests/bench/bench_bwrap.c measures corral-run against
# the toolchains: tests/integration/test_languages.c compiles and runs a program
# per language in jails
DEB_PKGS := libseccomp-dev libcgroup-dev libnl-3-dev libnl-route-3-dev libsqlite3-dev libpq-dev \
            libcmocka-dev libinih-dev libjansson-dev libmicrohttpd-dev nettle-dev libcurl4-openssl-dev pkg-config clang \
            clang-format postgresql prometheus curl bubblewrap \
            g++ default-jdk-headless nodejs golang-go php-cli ruby rustc
LANG_TOOLS := c++ javac node go php ruby rustc

WARN    := -Wall -Wextra -Werror -Wshadow -Wformat=2 -Wvla -Wstrict-prototypes \
           -Wmissing-prototypes -Wno-unused-parameter
CFLAGS  ?= -O2 -g
# A root daemon: fortified libc calls, stack protector and clash protection,
# PIE, full RELRO, no executable stack.  _FORTIFY_SOURCE needs optimisation.
HARDEN  := -fstack-protector-strong -fstack-clash-protection -fPIE \
           $(if $(findstring -O0,$(CFLAGS)),,-U_FORTIFY_SOURCE -D_FORTIFY_SOURCE=3)
ALL_CFLAGS = -std=c17 -D_GNU_SOURCE $(WARN) $(CFLAGS) $(SANFLAGS) $(HARDEN) \
           -I. $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
# --as-needed: a program records only the libraries it calls (corral-run
# does not load corrald's sqlite, libpq, libcurl...; each one costs every
# start), whatever the compiler's default; not with the sanitizers (their
# runtimes must come first and stay).
ALL_LDFLAGS = $(LDFLAGS) $(SANFLAGS) -pie -Wl,-z,relro,-z,now,-z,noexecstack $(if $(SANFLAGS),,-Wl,--as-needed)
LIBS    = $(shell pkg-config --libs $(PKGS) 2>/dev/null) -lm
CMOCKA_LIBS = $(shell pkg-config --libs cmocka 2>/dev/null)

# A library pkg-config cannot find stops the build with its name (make deps
# installs them), rather than failing later on a missing header.
ifeq ($(filter deps clean format format-check check-layering,$(MAKECMDGOALS)),)
MISSING_PKGS := $(strip $(foreach p,$(PKGS) cmocka,$(if $(shell pkg-config --exists $(p) 2>/dev/null && echo y),,$(p))))
ifneq ($(MISSING_PKGS),)
$(error pkg-config cannot find: $(MISSING_PKGS); run `make deps` (as root) to install the Debian packages)
endif
endif

# The version of every program and of the API: `git describe`, or the base
# version outside a git checkout.  Only version.o is rebuilt when it changes.
BASE_VERSION := 0.1.0
VERSION := $(or $(shell git describe --tags --match 'v[0-9]*' --dirty 2>/dev/null | sed 's/^v//'),\
             $(shell git rev-parse --short HEAD >/dev/null 2>&1 && echo $(BASE_VERSION)-dev+g$$(git rev-parse --short HEAD)),\
             $(BASE_VERSION)-dev)

RUNNER_SRC     := $(sort $(wildcard runner/*.c))
POLICY_SRC     := $(sort $(wildcard policy/*.c))
UNIT_SRC       := $(sort $(wildcard tests/unit/test_*.c))
INTEG_SRC      := $(sort $(wildcard tests/integration/test_*.c))
TESTLIB_SRC    := $(sort $(wildcard tests/lib/*.c))
PROBE_SRC      := $(sort $(wildcard tests/integration/probes/*.c))
BENCH_SRC      := $(sort $(wildcard tests/bench/bench_*.c))
FUZZ_SRC       := $(sort $(wildcard tests/fuzz/*_fuzz.c))

obj = $(patsubst %.c,$(BUILD)/%.o,$(1))

# supervisor/: one archive per library folder, and one per program folder
# (its files but main.c, so unit tests can link a program's pure parts).
# Listed in link order: programs first, then the libraries they use.
SUP_LIBRARIES := doctor jailspec sched api store common
SUP_PROGRAMS  := corrald corral corral-run
sup_src = $(sort $(wildcard supervisor/$(1)/*.c) $(wildcard supervisor/$(1)/*/*.c))
$(foreach d,$(SUP_LIBRARIES) $(SUP_PROGRAMS),$(eval $(d)_OBJ := $(call obj,$(filter-out supervisor/$(d)/main.c,$(call sup_src,$(d))))))

RUNNER_LIB     := $(BUILD)/librunner.a
POLICY_LIB     := $(BUILD)/libpolicy.a
# tests/lib/: what unit tests, integration tests and benchmarks share
TEST_LIB       := $(BUILD)/libtest.a
SUP_LIBS       := $(foreach d,$(SUP_LIBRARIES),$(BUILD)/lib$(d).a)
PROGRAM_LIBS   := $(foreach d,$(SUP_PROGRAMS),$(BUILD)/lib$(d).a)
ALL_LIBS       := $(PROGRAM_LIBS) $(SUP_LIBS) $(POLICY_LIB) $(RUNNER_LIB)

PROGRAMS := $(foreach d,$(SUP_PROGRAMS),$(BUILD)/$(d))
UNIT_BINS  := $(patsubst tests/unit/%.c,$(BUILD)/tests/unit/%,$(UNIT_SRC))
INTEG_BINS := $(patsubst tests/integration/%.c,$(BUILD)/tests/integration/%,$(INTEG_SRC))
PROBE_BINS := $(patsubst tests/integration/probes/%.c,$(BUILD)/tests/probes/%,$(PROBE_SRC))
HELPER_SRC := $(sort $(wildcard tests/integration/helpers/*.c))
HELPER_BINS := $(patsubst tests/integration/helpers/%.c,$(BUILD)/tests/helpers/%,$(HELPER_SRC))
BENCH_BINS := $(patsubst tests/bench/%.c,$(BUILD)/tests/bench/%,$(BENCH_SRC))

# corral-init, the jail's pid 1 (runner/init/): a program of its own that
# every jail execs.  It runs inside jails whose /usr may hold any libc, so it
# is static (static-pie), links libc only, and is never built with the
# sanitizers (their runtimes do not link statically).
INIT_PROGRAM := $(BUILD)/corral-init
INIT_SRC     := runner/init/corral_init.c runner/init/init_limits.c runner/init/init_setup.c \
                runner/init/init_mounts.c runner/init/init_netns.c runner/init_protocol.c runner/error.c

.PHONY: FORCE format format-check check-layering all check check-v2 unit integration asan fuzz fuzz-long bench bench-cluster-sim soak deps install clean run tests
all: $(PROGRAMS) $(INIT_PROGRAM)

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -MMD -MP -c $< -o $@

$(BUILD)/version.txt: FORCE
	@mkdir -p $(dir $@); echo '$(VERSION)' | cmp -s - $@ || echo '$(VERSION)' > $@
$(BUILD)/supervisor/common/version.o: supervisor/common/version.c $(BUILD)/version.txt
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -DCORRAL_VERSION='"$(VERSION)"' -MMD -MP -c $< -o $@
FORCE:

$(BUILD)/runner/init_exec.o: ALL_CFLAGS += -DCORRAL_LIBEXECDIR='"$(LIBEXECDIR)"'

$(INIT_PROGRAM): $(INIT_SRC) runner/init_protocol.h runner/init/init_limits.h runner/init/init_setup.h \
		runner/jail.h runner/host_etc.h
	@mkdir -p $(dir $@)
	$(CC) -std=c17 -D_GNU_SOURCE $(WARN) $(CFLAGS) $(HARDEN) -I. \
		-static-pie -Wl,-z,relro,-z,now,-z,noexecstack -o $@ $(INIT_SRC)

# The built-in seccomp profiles' BPF, compiled at build time: a generator
# linked with runner/'s seccomp compiler (runner/gen/seccomp_gen.c) writes
# it as C arrays that runner/seccomp_builtin.c includes.  It runs here, so
# it matches this libseccomp and the profiles of this tree (test_seccomp
# checks both still agree).
SECCOMP_GEN     := $(BUILD)/seccomp_gen
SECCOMP_GEN_OBJ := $(call obj,runner/gen/seccomp_gen.c runner/seccomp_rules.c runner/seccomp_query.c \
		     runner/seccomp_profiles.c runner/error.c)
SECCOMP_BPF     := $(BUILD)/runner/seccomp_gen_bpf.h
$(SECCOMP_GEN): $(SECCOMP_GEN_OBJ)
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(LIBS)
$(SECCOMP_BPF): $(SECCOMP_GEN)
	@mkdir -p $(dir $@)
	$(SECCOMP_GEN) $@
$(BUILD)/runner/seccomp_builtin.o: ALL_CFLAGS += -I$(BUILD)
$(BUILD)/runner/seccomp_builtin.o: $(SECCOMP_BPF)

$(RUNNER_LIB): $(call obj,$(RUNNER_SRC))
	@mkdir -p $(dir $@); rm -f $@; ar rcs $@ $^
$(POLICY_LIB): $(call obj,$(POLICY_SRC))
	@mkdir -p $(dir $@); rm -f $@; ar rcs $@ $^
$(TEST_LIB): $(call obj,$(TESTLIB_SRC))
	@mkdir -p $(dir $@); rm -f $@; ar rcs $@ $^
define sup_archive
$(BUILD)/lib$(1).a: $$($(1)_OBJ)
	@mkdir -p $$(dir $$@); rm -f $$@; ar rcs $$@ $$^
endef
$(foreach d,$(SUP_LIBRARIES) $(SUP_PROGRAMS),$(eval $(call sup_archive,$(d))))

# A program: its main.c, its own archive, the supervisor libraries, policy, runner.
$(BUILD)/%: $(BUILD)/supervisor/%/main.o $(BUILD)/lib%.a $(SUP_LIBS) $(POLICY_LIB) $(RUNNER_LIB)
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(LIBS)

# corral-run starts once per jail, so its own start counts: it is linked
# static-pie (libc, libseccomp, libinih, libjansson: what it calls), and its
# start maps no shared library at all (no ld.so, no relocations: ~10% of a
# corral-run of /bin/true here).  Under the sanitizers it links as the
# others do (their runtimes do not link statically).
CORRAL_RUN_STATIC_LIBS := $(shell pkg-config --libs --static libseccomp inih jansson 2>/dev/null) -lm
$(BUILD)/corral-run: $(BUILD)/supervisor/corral-run/main.o $(BUILD)/libcorral-run.a $(SUP_LIBS) $(POLICY_LIB) $(RUNNER_LIB)
	$(CC) $(if $(SANFLAGS),$(ALL_LDFLAGS),$(LDFLAGS) -static-pie -Wl,-z,relro,-z,now,-z,noexecstack) \
		-o $@ $^ $(if $(SANFLAGS),$(LIBS),$(CORRAL_RUN_STATIC_LIBS))

# Unit tests: cmocka, no root.  A test may list linker wraps in a comment in
# its first three lines, "/* wrap: sym1 sym2 */"; they become -Wl,--wrap=sym.
wraps = $(foreach s,$(shell sed -n '1,3s|^/\* wrap: \(.*\) \*/$$|\1|p' $(1)),-Wl,--wrap=$(s))
$(BUILD)/tests/unit/%: $(BUILD)/tests/unit/%.o $(TEST_LIB) $(ALL_LIBS)
	$(CC) $(ALL_LDFLAGS) $(call wraps,tests/unit/$*.c) -o $@ $< $(TEST_LIB) $(ALL_LIBS) $(LIBS) $(CMOCKA_LIBS)
# test_version runs the three programs (`make unit` alone builds them too)
$(BUILD)/tests/unit/test_version: | $(PROGRAMS)
$(BUILD)/tests/integration/%: $(BUILD)/tests/integration/%.o $(TEST_LIB) $(ALL_LIBS)
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(LIBS) $(CMOCKA_LIBS)
# Probes run inside jails: hostile little programs; static so they need no
# libraries from the jail's view of /usr.
$(BUILD)/tests/probes/%: tests/integration/probes/%.c
	@mkdir -p $(dir $@)
	$(CC) -std=c17 -D_GNU_SOURCE -O2 -Wall -Wextra -Werror -static -o $@ $<
# Test programs built on the daemon's library (corrald-clock: a shifted clock).
$(BUILD)/tests/helpers/%: $(BUILD)/tests/integration/helpers/%.o $(ALL_LIBS)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(LIBS)
$(BUILD)/tests/bench/%: $(BUILD)/tests/bench/%.o $(TEST_LIB) $(ALL_LIBS)
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(LIBS) $(CMOCKA_LIBS)

tests: $(PROGRAMS) $(INIT_PROGRAM) $(UNIT_BINS) $(INTEG_BINS) $(PROBE_BINS) $(HELPER_BINS) $(BENCH_BINS)

# The C style of .clang-format: `make format` rewrites, `make format-check`
# (CI) fails on any difference.  Only tracked files (git ls-files).
FORMAT_SRC = $(shell git ls-files '*.c' '*.h' 2>/dev/null)
format:
	@clang-format -i $(FORMAT_SRC)
format-check:
	@clang-format --dry-run --Werror $(FORMAT_SRC) && echo "format-check: $(words $(FORMAT_SRC)) files clean"

# The include rules and exported names (supervisor/README.md), from the objects.
check-layering: all
	@BUILD=$(BUILD) sh tests/check_layering.sh

check: tests
	@BUILD=$(BUILD) sh tests/run.sh

# Pure cgroup v2 (the development and CI hosts are hybrid): a throw-away VM
# with Debian 12's kernel under qemu TCG, cgroup2 alone at /sys/fs/cgroup
# (tests/vm/run.sh), runs these integration tests with CORRAL_MUST_WORK=1
# (tests/vm/check-v2.sh), then boots the host's systemd as the VM's pid 1
# and runs contrib/systemd/corrald.service (tests/vm/systemd-corrald.sh).
# Left out, as bound to wall-clock limits that emulation (10-20x slower)
# breaks: test_corrald_budget (a 1.5 s task limit), test_corrald_faults
# (its kill -9 run must settle within 60 s), and the socket-protocol attacks
# with latency bounds and no cgroup code (test_corrald_attack, test_ops_attack).
CHECK_V2_TESTS ?= test_cgroup test_jail test_jail_sockmem test_adopt test_escape test_init \
		  test_init_attack test_attack test_supervisor_cgroup test_corrald test_doctor
CHECK_V2_TIMEOUT ?= 1200
check-v2: tests
	@tests/vm/run.sh --timeout $(CHECK_V2_TIMEOUT) sh tests/vm/check-v2.sh $(BUILD) $(CHECK_V2_TESTS)
	@tests/vm/run.sh --systemd --timeout 300 sh tests/vm/systemd-corrald.sh $(BUILD)

unit: $(UNIT_BINS)
	@BUILD=$(BUILD) sh tests/run.sh unit

integration: tests
	@BUILD=$(BUILD) sh tests/run.sh integration

# A small quarantine: the daemon's memory-growth tests measure RSS, and
# ASan's default 256 MiB quarantine of freed memory would count as growth.
asan:
	ASAN_OPTIONS=$${ASAN_OPTIONS:-quarantine_size_mb=8} $(MAKE) check BUILD=build/asan CFLAGS="-O1 -g -fno-omit-frame-pointer" \
		SANFLAGS="-fsanitize=address,undefined -fno-sanitize-recover=all"

FUZZ_BINS := $(patsubst tests/fuzz/%.c,$(BUILD)/fuzz/%,$(FUZZ_SRC))
FUZZ_RUNS ?= 10000000
FUZZ_LIB_SRC := $(POLICY_SRC) $(wildcard supervisor/api/*.c) supervisor/store/task_state.c \
		supervisor/common/error.c
# Targets in runner/ link its sources too (target-specific, the rest do not).
FUZZ_RUNNER_BINS := $(BUILD)/fuzz/status_file_fuzz $(BUILD)/fuzz/init_record_fuzz
$(FUZZ_RUNNER_BINS): FUZZ_EXTRA_SRC := $(RUNNER_SRC)
$(FUZZ_RUNNER_BINS): $(RUNNER_SRC) $(SECCOMP_BPF)
# The HTTP API's route mapping (pure: corrald's http_route.c alone).
$(BUILD)/fuzz/http_route_fuzz: FUZZ_EXTRA_SRC := supervisor/corrald/http_route.c
$(BUILD)/fuzz/http_route_fuzz: supervisor/corrald/http_route.c
# A submit's multipart body (corrald's http_multipart.c) and its tar parts.
$(BUILD)/fuzz/upload_fuzz: FUZZ_EXTRA_SRC := supervisor/corrald/http_multipart.c
$(BUILD)/fuzz/upload_fuzz: supervisor/corrald/http_multipart.c
# -fno-sanitize-recover=all: undefined behaviour aborts, so libFuzzer saves the
# input as a crash and make fuzz fails (recovering, UBSan only printed to the
# log and the run went on).  It also takes UBSan's recovery paths out of the
# coverage (policy_fuzz's covered counters: ~2,780 -> ~850), and with them
# most of libFuzzer's bookkeeping per execution.
$(BUILD)/fuzz/%: tests/fuzz/%.c $(FUZZ_LIB_SRC)
	@mkdir -p $(dir $@)
	clang -std=c17 -D_GNU_SOURCE -g -O1 -I. -I$(BUILD) -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
		$(shell pkg-config --cflags $(PKGS)) -o $@ $< $(FUZZ_LIB_SRC) $(FUZZ_EXTRA_SRC) $(LIBS)
# $(1): how long each target runs (set by fuzz and fuzz-long).  A target
# with tests/fuzz/NAME.dict gets it as -dict (the words of its format, which
# mutations then insert whole).  Otherwise libFuzzer's defaults, on purpose:
# -max_len is the larger of 4096 and the biggest seed (seeds are kept small,
# so -len_control grows inputs from there; 4096 holds every policy feature
# several times), -use_value_profile stays off (it multiplies the features
# libFuzzer books per execution: policy_fuzz ran 5x fewer executions per
# CPU-second and covered fewer branches in 20 s), -reduce_inputs stays on
# (the corpus keeps the shortest input per feature, which keeps executions
# fast), and the sanitizers' options are their defaults.
define run_fuzz_targets
	@for f in $(FUZZ_BINS); do \
		mkdir -p $(BUILD)/fuzz/corpus-$$(basename $$f); \
		dict=tests/fuzz/$$(basename $$f).dict; [ -f $$dict ] && dict=-dict=$$dict || dict=; \
		echo "fuzz: $$f $(1) $$dict"; \
		$$f $(1) $$dict $(BUILD)/fuzz/corpus-$$(basename $$f) tests/fuzz/corpus/$$(basename $$f) 2>$(BUILD)/fuzz/$$(basename $$f).log \
			|| { tail -50 $(BUILD)/fuzz/$$(basename $$f).log; exit 1; }; \
		grep -E 'DONE|^Done' $(BUILD)/fuzz/$$(basename $$f).log | tail -2; \
	done
endef
fuzz: $(FUZZ_BINS)
	$(call run_fuzz_targets,-max_total_time=$(FUZZ_SECONDS))
fuzz-long: $(FUZZ_BINS)
	$(call run_fuzz_targets,-runs=$(FUZZ_RUNS))

# A mixed workload against a real corrald (root): SOAK_SECONDS (default 600).
soak: all $(HELPER_BINS)
	@BUILD=$(BUILD) sh tests/soak/run.sh

bench: $(PROGRAMS) $(INIT_PROGRAM) $(BENCH_BINS)
	@BUILD=$(BUILD) sh tests/bench/run.sh

# The cluster scheduler's rounds at scale on a real PostgreSQL, SQLite the
# baseline (no root, no jails; a few minutes): tests/bench/bench_cluster_sim.c
bench-cluster-sim: $(BUILD)/tests/bench/bench_cluster_sim
	@BUILD=$(BUILD) sh tests/bench/run.sh clustersim

deps:
	@missing=""; for p in $(PKGS) cmocka; do pkg-config --exists $$p 2>/dev/null || missing="$$missing $$p"; done; \
	command -v pkg-config >/dev/null || missing="$$missing pkg-config"; \
	command -v clang >/dev/null || missing="$$missing clang"; \
	command -v clang-format >/dev/null || missing="$$missing clang-format"; \
	command -v bwrap >/dev/null || missing="$$missing bwrap"; \
	for t in $(LANG_TOOLS); do command -v $$t >/dev/null || missing="$$missing $$t"; done; \
	ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || missing="$$missing postgresql"; \
	if [ -n "$$missing" ]; then \
		echo "deps: missing:$$missing; installing Debian packages"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $(DEB_PKGS) >/dev/null; \
	else echo "deps: all present"; fi

install: all
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/sbin $(DESTDIR)$(PREFIX)/share/man/man1 \
		$(DESTDIR)$(PREFIX)/share/man/man5 $(DESTDIR)$(PREFIX)/share/man/man8
	for p in $(PROGRAMS); do case $$p in */corrald) d=sbin ;; *) d=bin ;; esac; \
		install -m 755 $$p $(DESTDIR)$(PREFIX)/$$d/; done
	install -d -m 755 $(DESTDIR)$(LIBEXECDIR)
	install -m 755 $(INIT_PROGRAM) $(DESTDIR)$(LIBEXECDIR)/corral-init
	for m in contrib/man/*.[158]; do [ -e "$$m" ] || continue; \
		s=$${m##*.}; install -m 644 $$m $(DESTDIR)$(PREFIX)/share/man/man$$s/; done
	install -d $(DESTDIR)$(PREFIX)/share/doc/corral
	install -m 644 contrib/openapi.yaml $(DESTDIR)$(PREFIX)/share/doc/corral/openapi.yaml
	install -m 644 contrib/policy/corral.conf $(DESTDIR)$(PREFIX)/share/doc/corral/corral.conf
	install -d $(DESTDIR)/etc/corral $(DESTDIR)$(SYSTEMD_UNIT_DIR)
	[ -e $(DESTDIR)/etc/corral/policy.conf ] || install -m 644 contrib/policy/corral.conf $(DESTDIR)/etc/corral/policy.conf
	sed 's|/usr/local/sbin/corrald|$(PREFIX)/sbin/corrald|' contrib/systemd/corrald.service \
		> $(DESTDIR)$(SYSTEMD_UNIT_DIR)/corrald.service

clean:
	rm -rf build

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)

# The README's first command: corrald in the foreground with the embedded
# SQLite store and the example policy.
# On pure cgroup v2 under systemd (Debian 12 as installed) a root shell sits
# in a session scope that corrald must not share: it gets a delegated scope
# of its own, as the unit would give it (README, corrald(8)).
run: all
	mkdir -p /var/lib/corral /run/corral
	@if [ -f /sys/fs/cgroup/cgroup.controllers ] && [ -d /run/systemd/system ] && \
	    command -v systemd-run >/dev/null 2>&1; then \
		echo "run: pure cgroup v2 under systemd: corrald in a scope of its own (systemd-run --scope -p Delegate=yes)"; \
		exec systemd-run --quiet --scope -p Delegate=yes $(BUILD)/corrald --policy contrib/policy/corral.conf; \
	else \
		exec $(BUILD)/corrald --policy contrib/policy/corral.conf; \
	fi
