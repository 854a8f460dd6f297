# ctlive-fluent-bit: build, run and test the ctlive Fluent Bit output plugin.
#
#   make run    build the plugin and run it on testdata/sample.log
#   make test   lint, then every test (installs VictoriaLogs for the
#               end-to-end tests on first use), listing the skipped ones
#   make test-short  a quick run without the servers
#   make bench  benchmarks (BENCHTIME=5s make bench)

GO        ?= go
SO        := build/out_ctlive.so
HOST      := build/flbhost
TOOLS     := build/tools
VL        := $(TOOLS)/victoria-logs
VL_MODULE := github.com/VictoriaMetrics/VictoriaLogs/app/victoria-logs@v1.52.1
FUZZTIME  ?= 60s
GOFILES   := $(shell find . -name '*.go' -not -path './build/*')

# pipefail in recipes: go test | testreport fails when go test does.
SHELL     := /bin/bash

# Go 1.26's experimental simd/archsimd lets the parser and the JSON encoder
# look at 32 bytes per instruction (parser/classify_simd.go,
# record/escape_simd.go); without it, or on a CPU without AVX2, the same
# work is done eight bytes at a time. GOEXPERIMENT= builds without it.
GOEXPERIMENT ?= simd
export GOEXPERIMENT

.PHONY: all build host run test test-short lint bench fuzz victoria-logs clean

all: build

build: $(SO)

# Build commands are echoed to stderr, not stdout: `make run > out` must
# hold the records alone.
# c-shared needs cgo; -trimpath keeps local paths out of the library.
$(SO): $(GOFILES) go.mod go.sum
	@echo "CGO_ENABLED=1 $(GO) build -buildmode=c-shared -trimpath -o $@ ./plugin" >&2
	@CGO_ENABLED=1 $(GO) build -buildmode=c-shared -trimpath -o $@ ./plugin

host: $(HOST)

# The project's stand-in for Fluent Bit (internal/flbhost/host.c).
# -rdynamic exports its malloc_usable_size to the plugin, as Fluent Bit
# exports its allocator.
$(HOST): internal/flbhost/host.c
	@mkdir -p build
	@echo "gcc -std=gnu11 -O2 -Wall -Werror -pthread -rdynamic -o $@ $< -ldl -lpthread" >&2
	@gcc -std=gnu11 -O2 -Wall -Werror -pthread -rdynamic -o $@ $< -ldl -lpthread

# Runs the main job on the bundled sample log: in Fluent Bit with the
# example configuration when fluent-bit is installed (stopped after
# RUN_SECONDS: tail keeps waiting for more lines, and tail's exit_on_eof
# would stop the engine before the records come back over forward), else
# through the project's host, printing enriched records as JSON lines.
RUN_SECONDS ?= 8
run: $(SO) $(HOST)
	@if command -v fluent-bit >/dev/null 2>&1; then \
		timeout --preserve-status -s TERM $(RUN_SECONDS) fluent-bit -c fluent-bit.conf; \
	else \
		echo "fluent-bit not found on PATH: running the plugin through build/flbhost" >&2; \
		$(HOST) -p $(SO) -i testdata/sample.log -t raw.ctlive -o sink=stdout -o workers=1; \
	fi

lint:
	@out=$$(gofmt -l $(GOFILES)); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...
	GOEXPERIMENT= $(GO) vet ./parser ./record

# Every test, race detector on. End-to-end tests start a real VictoriaLogs
# on 127.0.0.1 and drive build/out_ctlive.so through the host harness.
# The parser and record tests run once more without SIMD: that is what a
# plain go build gives users, and their fuzz tests compare both paths.
# internal/testreport prints what go test prints, then every skipped test
# with its reason (plain go test hides them).
TESTREPORT = $(GO) run ./internal/testreport
test: lint $(VL)
	@set -o pipefail; VICTORIA_LOGS_BIN=$(CURDIR)/$(VL) $(GO) test -race -count=1 -json ./... | $(TESTREPORT)
	@set -o pipefail; GOEXPERIMENT= $(GO) test -count=1 -json ./parser ./record | $(TESTREPORT)

# Without VictoriaLogs, lnav and other programs the tests run for real, and
# with -short: a quick run while developing (the skips are listed, saying
# why).
test-short: lint
	@set -o pipefail; $(GO) test -short -count=1 -json ./... | $(TESTREPORT)

victoria-logs: $(VL)

$(VL):
	@mkdir -p $(TOOLS)
	GOBIN=$(CURDIR)/$(TOOLS) $(GO) install $(VL_MODULE)

# Benchmarks on the generated corpus; figures per record and per line.
# BENCHTIME is go test's -benchtime (1s, 5x, ...). The VictoriaLogs data
# and test binaries go to build/benchtmp, removed when the run ends or is
# interrupted, and before the next one: an interrupted run used to leave
# about 1 GB in /tmp.
BENCHTIME ?= 1s
BENCHTMP  := $(CURDIR)/build/benchtmp
bench: $(VL)
	@rm -rf $(BENCHTMP) && mkdir -p $(BENCHTMP)
	@trap 'rm -rf $(BENCHTMP)' EXIT INT TERM; \
	TMPDIR=$(BENCHTMP) VICTORIA_LOGS_BIN=$(CURDIR)/$(VL) $(GO) test -run '^$$' -bench . -benchtime $(BENCHTIME) -benchmem \
		./parser ./record ./template ./pipeline ./sink/...

fuzz:
	$(GO) test -run '^$$' -fuzz FuzzParse -fuzztime $(FUZZTIME) ./parser
	$(GO) test -run '^$$' -fuzz FuzzWordEnd -fuzztime $(FUZZTIME) ./parser
	$(GO) test -run '^$$' -fuzz FuzzClassify64 -fuzztime $(FUZZTIME) ./parser
	$(GO) test -run '^$$' -fuzz FuzzUUIDAt -fuzztime $(FUZZTIME) ./parser
	$(GO) test -run '^$$' -fuzz FuzzTranscode -fuzztime $(FUZZTIME) ./record
	$(GO) test -run '^$$' -fuzz FuzzJSONString -fuzztime $(FUZZTIME) ./record
	$(GO) test -run '^$$' -fuzz FuzzParse -fuzztime $(FUZZTIME) ./template

clean:
	rm -rf build
