# ctlive-fluent-bit: build, run and test the ctlive Fluent Bit output plugin.
#
#   make run    build the plugin and run it on testdata/sample.log
#   make test   lint, then every test (installs VictoriaLogs for the
#               end-to-end tests on first use), listing the skipped ones
#   make test-short  a quick run without the servers
#   make bench  benchmarks (BENCHTIME=5s make bench)
#   make pgo    plugin/default.pgo again, the profile the plugin is built with
#   make build  the plugin and build/ctlive-inspect, the support tool

GO        ?= go
SO        := build/out_ctlive.so
INSPECT   := build/ctlive-inspect
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

.PHONY: all build inspect host run run-fluent-bit test test-short lint bench bench-inspect pgo fuzz victoria-logs clean

all: build

build: $(SO) $(INSPECT)

inspect: $(INSPECT)

# The support engineers' tool (README: ctlive-inspect); pure Go, no cgo.
$(INSPECT): $(GOFILES) go.mod go.sum internal/inspect/report.html.tmpl
	@echo "GOEXPERIMENT=$(GOEXPERIMENT) CGO_ENABLED=0 $(GO) build -trimpath -o $@ ./cmd/ctlive-inspect" >&2
	@CGO_ENABLED=0 $(GO) build -trimpath -o $@ ./cmd/ctlive-inspect

# Build commands are echoed to stderr, not stdout: `make run > out` must
# hold the records alone.
# c-shared needs cgo; -trimpath keeps local paths out of the library.
# go build optimizes the plugin with plugin/default.pgo, a CPU profile of
# the benchmarks (make pgo writes it again; README: Performance).
PGO       := $(wildcard plugin/default.pgo)
# A file named after how the library is built (GOEXPERIMENT, the profile
# or none): removing the profile or changing GOEXPERIMENT makes a new one,
# newer than the library, which is then built again.
BUILDSTATE := build/.so-goexperiment=$(GOEXPERIMENT)-pgo=$(if $(PGO),on,off)
$(BUILDSTATE):
	@mkdir -p build && rm -f build/.so-* && touch '$@'
$(SO): $(GOFILES) go.mod go.sum $(PGO) $(BUILDSTATE)
	@echo "GOEXPERIMENT=$(GOEXPERIMENT) CGO_ENABLED=1 $(GO) build -buildmode=c-shared -trimpath -o $@ ./plugin" >&2
	@CGO_ENABLED=1 $(GO) build -buildmode=c-shared -trimpath -o $@ ./plugin

host: $(HOST)

# The project's stand-in for Fluent Bit (internal/flbhost/host.c).
# -rdynamic exports its malloc_usable_size to the plugin, as Fluent Bit
# exports its allocator.
$(HOST): internal/flbhost/host.c
	@mkdir -p build
	@echo "gcc -std=gnu11 -O2 -Wall -Werror -pthread -rdynamic -o $@ $< -ldl -lpthread" >&2
	@gcc -std=gnu11 -O2 -Wall -Werror -pthread -rdynamic -o $@ $< -ldl -lpthread

# Runs the main job on the bundled sample log through the project's own
# Fluent Bit host (build/flbhost, which loads the .so as Fluent Bit does),
# printing every enriched record as one JSON line: no outside service, the
# same output on every machine.
run: $(SO) $(HOST)
	@$(HOST) -p $(SO) -i testdata/sample.log -t raw.ctlive -o sink=stdout -o workers=1

# The same job in a real Fluent Bit (on PATH) with the example
# configuration, fluent-bit.conf: tail -> ctlive -> in_forward -> one
# stdout per tenant. Stopped after RUN_SECONDS (tail waits for more lines,
# and tail's exit_on_eof would stop the engine before the records come back
# over forward), with SIGTERM alone: timeout(1) adds a SIGCONT, which
# Fluent Bit answers with a dump of its state.
RUN_SECONDS ?= 8
run-fluent-bit: $(SO)
	@command -v fluent-bit >/dev/null || { echo "fluent-bit is not on PATH" >&2; exit 2; }
	@fluent-bit -c fluent-bit.conf & pid=$$!; sleep $(RUN_SECONDS); kill -TERM $$pid; wait $$pid

lint:
	@# The gofmt of the Go that builds (GO=go1.26.0 too), and a missing one fails.
	@out=$$("$$($(GO) env GOROOT)/bin/gofmt" -l $(GOFILES)) || exit 1; if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
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
# about 1 GB in /tmp. The code is built with the plugin's profile
# (plugin/default.pgo), so the figures are those of the code the plugin runs.
BENCHTIME ?= 1s
BENCHTMP  := $(CURDIR)/build/benchtmp
bench: $(VL)
	@rm -rf $(BENCHTMP) && mkdir -p $(BENCHTMP)
	@trap 'rm -rf $(BENCHTMP)' EXIT INT TERM; \
	TMPDIR=$(BENCHTMP) VICTORIA_LOGS_BIN=$(CURDIR)/$(VL) $(GO) test -run '^$$' -bench . -benchtime $(BENCHTIME) -benchmem \
		$(if $(PGO),-pgo=$(CURDIR)/$(PGO)) ./parser ./record ./template ./pipeline ./sink/...

# plugin/default.pgo, the profile the plugin is built with, from the
# benchmarks of a record's work (bench/pgo.sh); commit what it writes.
pgo:
	bench/pgo.sh

# ctlive-inspect on generated logs of 100 MB and 1 GB in $(BENCH_DIR) (made
# once, kept for the next run, ignored by git): Go benchmarks with SetBytes, then the command's
# wall time, CPU time and peak RSS (/usr/bin/time), and `contact ID`
# against grep -F (into a file: GNU grep stops at the first match when its
# output is /dev/null). Figures are noisy on a shared machine: run it quiet.
BENCH_DIR ?= $(CURDIR)/build/bench-data
bench-inspect: $(INSPECT)
	@mkdir -p $(BENCH_DIR); for mb in 100 1000; do f=$(BENCH_DIR)/ctlive-$${mb}mb.log; \
		[ -s $$f ] || $(GO) run ./internal/inspect/cmd/genlog -mb $$mb -o $$f; done
	CTLIVE_BENCH_LOG=$(BENCH_DIR)/ctlive-100mb.log $(GO) test -run '^$$' -bench . -benchmem -count 3 ./internal/inspect
	CTLIVE_BENCH_LOG=$(BENCH_DIR)/ctlive-1000mb.log $(GO) test -run '^$$' -bench StatePerContact -benchtime 1x ./internal/inspect
	@for mb in 100 1000; do f=$(BENCH_DIR)/ctlive-$${mb}mb.log; cat $$f > /dev/null; \
		for w in 1 2; do /usr/bin/time -f "contacts $${mb} MB, $$w worker(s): %e s wall, %U s user, %S s sys, peak RSS %M KB" \
			$(INSPECT) contacts --json --workers $$w $$f > /dev/null; done; \
		/usr/bin/time -f "contact ID $${mb} MB: %e s wall, %U s user, %S s sys, peak RSS %M KB" \
			$(INSPECT) contact CHAT_AGM_abbba71e-67b2-4f9c-ab68-dcf3f95bd32c $$f > $(BENCH_DIR)/contact.out; \
		/usr/bin/time -f "grep -F ID $${mb} MB: %e s wall, %U s user, %S s sys" \
			grep -F CHAT_AGM_abbba71e-67b2-4f9c-ab68-dcf3f95bd32c $$f > $(BENCH_DIR)/grep.out; done

fuzz:
	$(GO) test -run '^$$' -fuzz FuzzParse -fuzztime $(FUZZTIME) ./parser
	$(GO) test -run '^$$' -fuzz FuzzWordEnd -fuzztime $(FUZZTIME) ./parser
	$(GO) test -run '^$$' -fuzz FuzzClassify64 -fuzztime $(FUZZTIME) ./parser
	$(GO) test -run '^$$' -fuzz FuzzUUIDAt -fuzztime $(FUZZTIME) ./parser
	$(GO) test -run '^$$' -fuzz FuzzByteIs -fuzztime $(FUZZTIME) ./parser
	$(GO) test -run '^$$' -fuzz FuzzStripANSI -fuzztime $(FUZZTIME) ./parser
	$(GO) test -run '^$$' -fuzz FuzzUnescape -fuzztime $(FUZZTIME) ./parser
	$(GO) test -run '^$$' -fuzz FuzzTenantNeverFromAPayload -fuzztime $(FUZZTIME) ./enrich
	$(GO) test -run '^$$' -fuzz FuzzPlantedCredentialsNeverLeave -fuzztime $(FUZZTIME) ./enrich
	$(GO) test -run '^$$' -fuzz FuzzFoldIndex -fuzztime $(FUZZTIME) ./enrich
	$(GO) test -run '^$$' -fuzz FuzzLower8 -fuzztime $(FUZZTIME) ./enrich
	$(GO) test -run '^$$' -fuzz FuzzTranscode -fuzztime $(FUZZTIME) ./record
	$(GO) test -run '^$$' -fuzz FuzzJSONString -fuzztime $(FUZZTIME) ./record
	$(GO) test -run '^$$' -fuzz FuzzMsgpackFastPaths -fuzztime $(FUZZTIME) ./record
	$(GO) test -run '^$$' -fuzz FuzzKeyMemo -fuzztime $(FUZZTIME) ./record
	$(GO) test -run '^$$' -fuzz FuzzFieldsJSON -fuzztime $(FUZZTIME) ./record
	$(GO) test -run '^$$' -fuzz FuzzJSONIsLinear -fuzztime $(FUZZTIME) ./record
	$(GO) test -run '^$$' -fuzz FuzzMsgpackIsLinear -fuzztime $(FUZZTIME) ./record
	$(GO) test -run '^$$' -fuzz FuzzBulkIsLinear -fuzztime $(FUZZTIME) ./sink/elasticsearch
	$(GO) test -run '^$$' -fuzz FuzzPushIsLinear -fuzztime $(FUZZTIME) ./sink/loki
	$(GO) test -run '^$$' -fuzz FuzzForwardIsLinear -fuzztime $(FUZZTIME) ./sink/forward
	$(GO) test -run '^$$' -fuzz FuzzParse -fuzztime $(FUZZTIME) ./template
	$(GO) test -run '^$$' -fuzz FuzzScrub -fuzztime $(FUZZTIME) ./internal/scrub
	$(GO) test -run '^$$' -fuzz FuzzReader -fuzztime $(FUZZTIME) ./internal/config
	$(GO) test -run '^$$' -fuzz FuzzBulkResponse -fuzztime $(FUZZTIME) ./sink/elasticsearch
	$(GO) test -run '^$$' -fuzz FuzzAck -fuzztime $(FUZZTIME) ./sink/forward
	$(GO) test -run '^$$' -fuzz FuzzFinder -fuzztime $(FUZZTIME) ./internal/inspect

clean:
	rm -rf build
