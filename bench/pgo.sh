#!/usr/bin/env bash
# bench/pgo.sh: writes plugin/default.pgo, the CPU profile from which Go
# optimizes the plugin (profile-guided optimization: `go build` of a main
# package reads the default.pgo beside it, -pgo=auto, and inlines and lays
# out the calls the profile shows hot). README: Performance.
#
#   bench/pgo.sh                 profile the benchmarks, 10 s each
#   BENCHTIME=30s bench/pgo.sh   a longer run
#
# The profile is that of the benchmarks that do a record's work as the
# plugin does it, on the generated corpus of realistic CTLive lines
# (internal/corpus): BenchmarkFlush (decode, parse, redact, encode as JSON,
# as MessagePack, and the whole forward sink), and the Elasticsearch and
# Loki encoders with their sinks' defaults (a document _id; protobuf and
# snappy), each sub-benchmark for the same time (so BenchmarkFlush's three
# weigh three times the encoders'). They are built without a profile
# (-pgo=off): the new profile does not depend on the one it replaces.
# Run it again when the hot paths change, and commit the file it writes in
# a commit of its own: two runs never give the same profile, and
# instruction counts move by up to ~1% from one profile to the next.
# `make bench` and bench/instructions.sh build with it, as the plugin is
# (PGO=off bench/instructions.sh REV compares the code alone).
set -euo pipefail
cd "$(dirname "$0")/.."
export GOEXPERIMENT=${GOEXPERIMENT-simd}
benchtime=${BENCHTIME:-10s}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp" plugin/default.pgo.tmp' EXIT

profile() { # profile NAME PACKAGE BENCHMARK
	echo "== $2 $3" >&2
	go test -pgo=off -run '^$' -bench "$3" -benchtime "$benchtime" \
		-o "$tmp/$1.test" -cpuprofile "$tmp/$1.prof" "$2" | tee "$tmp/$1.out" >&2
	# go test matches no benchmark without an error (a renamed one): its
	# work would be missing from the profile without a word.
	grep -q '^Benchmark' "$tmp/$1.out" || { echo "bench/pgo.sh: $3 ran no benchmark in $2" >&2; exit 1; }
}
profile pipeline ./pipeline '^BenchmarkFlush$'
profile elasticsearch ./sink/elasticsearch '^BenchmarkEncode$/^default$'
profile loki ./sink/loki '^BenchmarkEncode$/^protobuf/raw/encode\+snappy$'

# One profile of all three, as pprof's protobuf: what -pgo reads. Written
# beside the old one and renamed over it: never half a profile.
go tool pprof -proto "$tmp"/*.prof >plugin/default.pgo.tmp
mv plugin/default.pgo.tmp plugin/default.pgo
echo "wrote plugin/default.pgo ($(wc -c <plugin/default.pgo) bytes)" >&2
