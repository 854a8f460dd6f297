#!/usr/bin/env bash
# bench/instructions.sh: instructions per record of BenchmarkFlush (decode,
# parse, enrich, encode), counted by valgrind's callgrind. A shared VM's
# timings vary by 3x from one day to the next; instruction counts do not,
# so this is how two commits are compared (README: Performance).
# Not part of CI: it needs valgrind (apt-get install valgrind).
#
#   bench/instructions.sh             this checkout
#   bench/instructions.sh REV         this checkout and REV, side by side
#   PGO=off bench/instructions.sh REV both without the profile the plugin
#                                     is built with (plugin/default.pgo)
#
# The test binary runs BenchmarkFlush/json, /msgpack and /forward (its fake
# in_forward, in the same process, is counted too) for 51 and for 101
# iterations of a 1,000-record chunk; both runs do the same setup, so the
# difference is 50,000 records' work. The parser alone (a last line,
# "parse") is BenchmarkParse/without-payload over 100,000 and 200,000 lines
# of its corpus (~19,000 lines, taken in turn): the difference is 100,000
# lines' work, per line. GOGC=off keeps the garbage
# collector's share out of the figure (it depends on the heap the test
# binary happens to have), GOMAXPROCS=1 and asyncpreemptoff keep the
# count of one run equal to the next. cpu.rdtscp=off: valgrind 3.19 does
# not decode RDTSCP, which the Go runtime reads when a lock is contended
# (runtime.cputicks in lock2) on CPUs that have it; without it the run
# dies with SIGILL at a random point.
set -euo pipefail
cd "$(dirname "$0")/.."
command -v valgrind >/dev/null || { echo "valgrind not found: apt-get install valgrind" >&2; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

count() { # count NAME SUB N [BENCH]: total instructions of one run of BENCH/SUB, or "none" when it ran none
	bench=${4:-BenchmarkFlush}
	GOGC=off GODEBUG=asyncpreemptoff=1,cpu.rdtscp=off GOMAXPROCS=1 valgrind --tool=callgrind \
		--callgrind-out-file="$tmp/$1-$2-$3.out" "$tmp/$1-$bench.test" -test.run '^$' \
		-test.bench "^$bench\$/^$2\$" -test.benchtime "$3x" >"$tmp/$1-$2-$3.log" 2>&1
	if ! grep -q "^$bench/$2" "$tmp/$1-$2-$3.log"; then
		echo none
		return
	fi
	awk '/^(summary|totals):/ {print $2; exit}' "$tmp/$1-$2-$3.out"
}

measure() { # measure NAME DIR
	# Built as the checkout builds the plugin: with its profile when it has
	# one (plugin/default.pgo, since bench/pgo.sh), without before; PGO=off
	# builds both without, to compare the code alone.
	local pgo=off
	[ "${PGO:-}" = off ] || [ ! -f "$2/plugin/default.pgo" ] || pgo=$(cd "$2" && pwd)/plugin/default.pgo
	(cd "$2" && GOEXPERIMENT=${GOEXPERIMENT-simd} go test -pgo="$pgo" -c -o "$tmp/$1-BenchmarkFlush.test" ./pipeline)
	(cd "$2" && GOEXPERIMENT=${GOEXPERIMENT-simd} go test -pgo="$pgo" -c -o "$tmp/$1-BenchmarkParse.test" ./parser)
	for sub in json msgpack forward; do
		a=$(count "$1" "$sub" 51)
		b=$(count "$1" "$sub" 101)
		if [ "$a" = none ] || [ "$b" = none ]; then # no such sub-benchmark at this commit
			printf '%-12s %-8s %6s instructions/record\n' "$1" "$sub" n/a
			continue
		fi
		printf '%-12s %-8s %6d instructions/record\n' "$1" "$sub" $(((b - a) / 50000))
	done
	a=$(count "$1" without-payload 100000 BenchmarkParse)
	b=$(count "$1" without-payload 200000 BenchmarkParse)
	if [ "$a" = none ] || [ "$b" = none ]; then
		printf '%-12s %-8s %6s instructions/line\n' "$1" parse n/a
	else
		printf '%-12s %-8s %6d instructions/line\n' "$1" parse $(((b - a) / 100000))
	fi
}

measure "$(git rev-parse --short HEAD)" .
if [ $# -gt 0 ]; then
	git worktree add -q --detach "$tmp/rev" "$1"
	trap 'git worktree remove --force "$tmp/rev"; rm -rf "$tmp"' EXIT
	measure "$(git -C "$tmp/rev" rev-parse --short HEAD)" "$tmp/rev"
fi
