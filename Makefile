# antmon: the two commands a new user runs are `make run` and `make test`.
# Both install missing Debian packages (when run as root), configure and build.
SHELL := /bin/bash
BUILD ?= build
ASAN_BUILD ?= build-asan
CONFIG ?= antmon.ini

# Build and runtime libraries.
DEPS_BUILD := meson ninja-build pkg-config gcc libglib2.0-dev libsoup-3.0-dev libjson-glib-dev \
  libsqlite3-dev sqlite3 libavahi-client-dev libavahi-glib-dev libcurl4-openssl-dev \
  libjs-chart.js glib-networking nettle-dev libcrypt-dev
# sd_notify (readiness, status, watchdog) when run as a systemd service.
DEPS_BUILD += libsystemd-dev
# [exporter:mqtt] (Home Assistant over MQTT)
DEPS_BUILD += libmosquitto-dev
# What the test suite drives: a real avahi-daemon in a namespace, a real SMTP
# server, nftables for silent hosts, clang for the fuzzers, a real Prometheus
# (and promtool) for the rules and the Grafana dashboard's queries.
DEPS_TEST := avahi-daemon avahi-utils dbus iproute2 nftables python3-aiosmtpd curl jq \
  clang libclang-rt-14-dev \
  chromium python3-prometheus-client openssl \
  prometheus
# systemd-analyze (verify, security) and groff (man page warnings) for
# tests/test-systemd.py.
DEPS_TEST += systemd groff-base man-db
# a real mosquitto broker for [exporter:mqtt]
DEPS_TEST += mosquitto mosquitto-clients
DEPS_BENCH := nmap wrk hyperfine

.PHONY: all run test soak demo bench install deps deps-test deps-bench build build-asan clean help

all: build

help:
	@echo "make run    build and start antmon with ./$(CONFIG) (SQLite under ./var)"
	@echo "make test   build and run the whole suite, then again under ASan+UBSan"
	@echo "make soak   run antmon for SOAK_MINUTES (30) against SOAK_MINERS (2000) fake miners"
	@echo "            and fail if memory, descriptors, threads or disk keep growing"
	@echo "make demo   start a simulated fleet on loopback and antmon against it"
	@echo "make bench  run the benchmarks (tests/bench)"

# Installs only what is missing; a second run installs nothing.
define install_missing
	@missing=""; for p in $(1); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ]; then \
	    echo "installing:$$missing"; \
	    export DEBIAN_FRONTEND=noninteractive; \
	    apt-get update -q >/dev/null && apt-get install -y -q --no-install-recommends $$missing >/dev/null \
	      || { echo "apt-get install failed for:$$missing" >&2; exit 1; }; \
	  else \
	    echo "missing Debian packages:$$missing" >&2; \
	    echo "run: sudo apt-get install$$missing" >&2; exit 1; \
	  fi; \
	fi
endef

deps:
	$(call install_missing,$(DEPS_BUILD))

deps-test: deps
	$(call install_missing,$(DEPS_TEST))

deps-bench: deps-test
	$(call install_missing,$(DEPS_BENCH))

$(BUILD)/build.ninja:
	meson setup $(BUILD) $(if $(PREFIX),--prefix=$(PREFIX))

$(ASAN_BUILD)/build.ninja:
	meson setup $(ASAN_BUILD) -Db_sanitize=address,undefined -Db_lundef=false -Dbuildtype=debug

build: deps $(BUILD)/build.ninja
	ninja -C $(BUILD)

build-asan: deps $(ASAN_BUILD)/build.ninja
	ninja -C $(ASAN_BUILD)

run: build
	@mkdir -p var
	ANTMON_PLUGIN_DIR=$(CURDIR)/$(BUILD)/plugins $(BUILD)/core/antmon run -c $(CONFIG)

test: deps-test
	@tests/run-suite.sh $(BUILD) $(ASAN_BUILD)

# The long soak (tests/soak/README.md); `make test` runs a two-minute one.
# SOAK_INTERVAL is the poll interval in seconds; SOAK_ARGS passes more options
# (tests/soak/antmon-soak.py --help), e.g. SOAK_ARGS="--rss-mb 96 --keep".
SOAK_MINUTES ?= 30
SOAK_MINERS ?= 2000
SOAK_INTERVAL ?= 5
SOAK_ARGS ?=
soak: build
	@/usr/bin/python3 tests/soak/antmon-soak.py --build $(BUILD) --minutes $(SOAK_MINUTES) \
	  --miners $(SOAK_MINERS) --interval $(SOAK_INTERVAL) $(SOAK_ARGS)

demo: build
	@tests/demo.sh $(BUILD)

bench: deps-bench build
	@tests/bench/run-all.sh $(BUILD)

# make install [PREFIX=/usr] [DESTDIR=/tmp/root]: the binary, plugins,
# headers, antmon.pc, antmon.service, the man pages and /etc/antmon/antmon.ini
# (kept when it exists; the shipped one is antmon.ini.dist). A PREFIX other
# than the build's reconfigures it (and so rebuilds what depends on it).
PREFIX ?=
DESTDIR ?=
install: build
	@if [ -n "$(PREFIX)" ] && [ "$$(meson introspect --buildoptions $(BUILD) | /usr/bin/python3 -c \
	    'import json,sys; print([o["value"] for o in json.load(sys.stdin) if o["name"] == "prefix"][0])')" \
	    != "$(PREFIX)" ]; then \
	  meson configure $(BUILD) --prefix=$(PREFIX) && ninja -C $(BUILD); fi
	meson install -C $(BUILD) --no-rebuild $(if $(DESTDIR),--destdir $(abspath $(DESTDIR)))

clean:
	rm -rf $(BUILD) $(ASAN_BUILD)
