#!/usr/bin/env bash
# bench/run.sh: the plugin inside real Fluent Bit, at the cost of Fluent
# Bit's own pipelines, on one generated CTLive log (README: Performance).
# Not part of CI: it needs fluent-bit on PATH (or FLUENT_BIT=/path).
#
#   bench/run.sh                      every row, 3 rounds, alternated
#   bench/run.sh -r 5 null ctlive-forward fb-forward
#   bench/run.sh -m 100               a ~100 MB log instead of ~49 MB
#   bench/run.sh -m 1660 -r 1 null fb-forward ctlive-forward
#                                     ~10 M lines: steady state, and
#                                     whether memory stays flat (rss@1/4
#                                     against rss@end)
#   bench/run.sh -p -r 1 fb-forward ctlive-forward
#                                     each run under perf record (dwarf
#                                     call graphs, 1 kHz; needs perf, Debian's
#                                     linux-perf), then bench/perfsplit.py:
#                                     CPU by thread, the pipeline thread's
#                                     chunk writes, each thread's top
#                                     functions. The CPU seconds then
#                                     include perf's own; BENCH_DIR/ROW.perf
#                                     keeps the last run of each row.
#
# Each row is a configuration in this directory (null, fb-forward,
# ctlive-forward, native-route, fb-stdout, ctlive-stdout, native-stdout).
# ctlive-forward-tenant and ctlive-forward-fixed are the forward loop with
# fewer tags (ctlive.$tenant, and one tag): what the default tag's split
# costs the receiving in_forward.
# Two more rows split a forward loop in its parts: replay-fb and
# replay-ctlive run in_forward -> null alone (replay.conf), fed the stream
# fb-forward's or ctlive-forward's output wrote (recorded once, before the
# rounds, by bench/fwdreplay); so ctlive-forward - null - replay-ctlive is
# what the plugin itself costs in place (README: Performance).
#
#   bench/run.sh null ctlive-forward fb-forward replay-ctlive replay-fb
#
# Three more, enriched-null, enriched-forward and enriched-stdout, run Fluent
# Bit's own outputs on the records the plugin makes of the same log (its
# stdout sink's lines, written first by a write-enriched run, read back by
# tail and Fluent Bit's json parser): what Fluent Bit's own forward and
# stdout outputs cost for the contract's records.
#
#   bench/run.sh null fb-forward ctlive-forward fb-stdout ctlive-stdout \
#       enriched-null enriched-forward enriched-stdout
#
# A run ends when Fluent Bit's own metrics (its HTTP server) show every
# line through the row's last output; then Fluent Bit is stopped, and
# /usr/bin/time -v gives its CPU seconds (user + sys, the whole process)
# and peak RSS. CPU seconds do not count the idle waits, so a run's wall
# time hardly matters; the median of the rounds is printed, and the
# ratios the README's table uses.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD

rounds=3 mb=49 profile=
while getopts "r:m:p" opt; do
	case $opt in
	r) rounds=$OPTARG ;;
	m) mb=$OPTARG ;;
	p) profile=1 ;;
	*) sed -n "2,/^set /{/^#/p}" "$0"; exit 2 ;;
	esac
done
shift $((OPTIND - 1))
rows=("$@")
[ ${#rows[@]} -gt 0 ] || rows=(null fb-forward ctlive-forward native-route fb-stdout ctlive-stdout native-stdout)

fb=${FLUENT_BIT:-$(command -v fluent-bit || true)}
if [ -z "$fb" ]; then
	echo "bench/run.sh: fluent-bit is not on PATH (set FLUENT_BIT=/path/to/fluent-bit)" >&2
	exit 2
fi
tools=(curl /usr/bin/time)
[ -z "$profile" ] || tools+=(perf python3)
for tool in "${tools[@]}"; do
	command -v "$tool" >/dev/null || { echo "bench/run.sh: needs $tool" >&2; exit 2; }
done

export BENCH_DIR=${BENCH_DIR:-$root/build/bench-data}
mkdir -p "$BENCH_DIR"
export BENCH_LOG=$BENCH_DIR/ctlive-${mb}mb.log
if [ ! -s "$BENCH_LOG" ]; then
	echo "== generating $BENCH_LOG"
	go run ./internal/inspect/cmd/genlog -mb "$mb" -o "$BENCH_LOG"
fi
lines=$(wc -l <"$BENCH_LOG")
make -s build/out_ctlive.so >&2
so=$root/build/out_ctlive.so

# The plugin of the output whose processed records say a run is through
# (Fluent Bit numbers instances across all outputs: null.1 after ctlive.0).
last_output() {
	case $1 in
	null | fb-forward | ctlive-forward | ctlive-forward-* | native-route | enriched-null | enriched-forward) echo null ;;
	fb-stdout | native-stdout | enriched-stdout) echo stdout ;;
	ctlive-stdout | write-enriched) echo ctlive ;;
	replay-*) echo null ;;
	capture-fb) echo forward ;;
	capture-ctlive) echo ctlive ;;
	esac
}

# proc_records of the output of plugin $2 in the metrics at port $1 (0
# before it shows).
proc_records() {
	curl -s "http://127.0.0.1:$1/api/v1/metrics" 2>/dev/null |
		grep -o "\"$2\.[0-9]*\":{\"proc_records\":[0-9]*" | grep -o '[0-9]*$' | tail -n 1 || echo 0
}

# fluent_bit_pid TIMER: the Fluent Bit that /usr/bin/time (pid TIMER) runs,
# directly or under perf record.
fluent_bit_pid() {
	local p
	p=$(pgrep -P "$1" fluent-bit) || p=$(pgrep -P "$(pgrep -P "$1" perf)" fluent-bit) || true
	echo "$p"
}

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# run ROW: one run; prints "cpu sys rss_mb rss25 rss_end": CPU seconds,
# peak resident MB, and the resident MB once a quarter of the lines are
# through and at the end (equal within the noise when memory is flat).
run() {
	local row=$1 out=$BENCH_DIR/$1.time err=$BENCH_DIR/$1.err conf=$1.conf sender= stdout=/dev/null
	rm -f "$BENCH_DIR/tail.db"*
	export BENCH_HTTP_PORT=$(free_port) BENCH_FORWARD_PORT=$(free_port)
	case $row in
	replay-*) conf=replay.conf ;;
	write-enriched) conf=ctlive-stdout.conf stdout=$BENCH_ENRICHED.tmp ;;
	capture-*)
		rm -f "$BENCH_DIR/$row.stream".*
		"$replay" capture -listen "127.0.0.1:$BENCH_FORWARD_PORT" -o "$BENCH_DIR/$row.stream" &
		sender=$!
		;;
	esac
	local wrap=()
	[ -z "$profile" ] || wrap=(perf record -q -F 1000 --call-graph dwarf,16384 -o "$BENCH_DIR/$row.perf" --)
	(cd bench && exec /usr/bin/time -v -o "$out" "${wrap[@]}" "$fb" -e "$so" -c "$conf" >"$stdout" 2>"$err") &
	local timer=$! deadline=$((SECONDS + 1800)) want n=0 pid= cur rss25=0 rss_end=0
	case $row in
	replay-*)
		"$replay" send -to "127.0.0.1:$BENCH_FORWARD_PORT" "$BENCH_DIR/capture-${row#replay-}.stream".* &
		sender=$!
		;;
	esac
	want=$(last_output "$row")
	while [ "$n" -lt "$lines" ]; do
		if [ $SECONDS -gt $deadline ] || ! kill -0 $timer 2>/dev/null; then
			echo "bench/run.sh: $row stopped at $n of $lines records; see $err" >&2
			break
		fi
		sleep 0.5
		n=$(proc_records "$BENCH_HTTP_PORT" "$want")
		[ -n "$pid" ] || pid=$(fluent_bit_pid $timer)
		cur=$(awk '/^VmRSS/ {printf "%.0f", $2 / 1024}' "/proc/${pid:-0}/status" 2>/dev/null || true)
		[ "$rss25" != 0 ] || [ "$n" -lt $((lines / 4)) ] || rss25=${cur:-0}
		rss_end=${cur:-$rss_end}
	done
	[ -n "$pid" ] || pid=$(fluent_bit_pid $timer)
	[ -z "$pid" ] || kill -TERM "$pid" 2>/dev/null || true
	wait $timer || true
	if [ -n "$profile" ]; then
		echo "== $row under perf" >&2
		perf script -i "$BENCH_DIR/$row.perf" 2>/dev/null | bench/perfsplit.py >&2
	fi
	if [ -n "$sender" ]; then
		kill -TERM "$sender" 2>/dev/null || true
		wait "$sender" || true
	fi
	awk -F': ' -v q="$rss25" -v e="$rss_end" '/User time/ {u=$2} /System time/ {s=$2} /Maximum resident/ {r=$2}
		END {printf "%.2f %.2f %.0f %s %s\n", u+s, s, r/1024, q, e}' "$out"
}

replay=
if [[ " ${rows[*]} " == *" replay-"* ]]; then
	replay=$BENCH_DIR/fwdreplay
	go build -o "$replay" ./bench/fwdreplay
	for row in "${rows[@]}"; do
		case $row in
		replay-*)
			echo "== recording ${row#replay-}-forward's stream" >&2
			run "capture-${row#replay-}" >/dev/null
			echo "   $(cat "$BENCH_DIR/capture-${row#replay-}.stream".* | wc -c | awk '{printf "%.0f", $1 / 1e6}') MB in $(ls "$BENCH_DIR/capture-${row#replay-}.stream".* | wc -l) connections" >&2
			;;
		esac
	done
fi

# The enriched-* rows read the records the plugin makes of this log: the
# ctlive-stdout row's JSON lines without the sink's "date" (a forward
# record has none), written again for every invocation's library.
export BENCH_ENRICHED=$BENCH_DIR/enriched-${mb}mb.json
if [[ " ${rows[*]} " == *" enriched-"* ]]; then
	echo "== writing $BENCH_ENRICHED" >&2
	run write-enriched >/dev/null
	sed 's/^{"date":[-0-9.e+]*,/{/' "$BENCH_ENRICHED.tmp" >"$BENCH_ENRICHED"
	rm -f "$BENCH_ENRICHED.tmp"
	[ "$(wc -l <"$BENCH_ENRICHED")" -eq "$lines" ] || { echo "bench/run.sh: $BENCH_ENRICHED is not one record a line" >&2; exit 1; }
fi

declare -A cpu sys rss rss25 rss_end
for ((k = 1; k <= rounds; k++)); do
	for row in "${rows[@]}"; do
		read -r c s r q e < <(run "$row")
		cpu[$row]+="$c " sys[$row]+="$s " rss[$row]+="$r " rss25[$row]+="$q " rss_end[$row]+="$e "
		echo "round $k: $row ${c}s cpu (${s}s sys), ${r} MB peak, $q MB at 1/4, $e MB at the end" >&2
	done
done

# The recorded streams (~3x the log) are not kept: each invocation
# records them again for the library it runs.
[ -z "$replay" ] || rm -f "$BENCH_DIR"/capture-*.stream.*

median() { tr ' ' '\n' | sed '/^$/d' | sort -g | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }

echo
echo "$lines lines, $(wc -c <"$BENCH_LOG" | awk '{printf "%.0f", $1 / 1e6}') MB, $rounds rounds, $("$fb" --version | sed -n 1p)"
printf '%-16s %8s %8s %8s %8s %8s\n' row cpu_s sys_s rss_mb rss@1/4 rss@end
declare -A med
for row in "${rows[@]}"; do
	med[$row]=$(echo "${cpu[$row]}" | median)
	printf '%-16s %8s %8s %8s %8s %8s\n' "$row" "${med[$row]}" "$(echo "${sys[$row]}" | median)" "$(echo "${rss[$row]}" | median)" \
		"$(echo "${rss25[$row]}" | median)" "$(echo "${rss_end[$row]}" | median)"
done
ratio() { [ -n "${med[$1]:-}" ] && [ -n "${med[$2]:-}" ] && awk -v a="${med[$1]}" -v b="${med[$2]}" -v t="$3" 'BEGIN {printf "%-50s %5.2f×\n", t, a/b}'; }
echo
ratio ctlive-forward fb-forward "forward loop: ctlive / Fluent Bit's own" || true
ratio ctlive-forward-tenant fb-forward "forward loop, tag ctlive.\$tenant: ctlive / Fluent Bit's own" || true
ratio ctlive-forward-fixed fb-forward "forward loop, one tag: ctlive / Fluent Bit's own" || true
ratio ctlive-stdout fb-stdout "stdout: ctlive / Fluent Bit's own" || true
ratio native-stdout ctlive-stdout "stdout: native regex+Lua / ctlive" || true
ratio native-route ctlive-forward "routing: native regex+Lua+rewrite_tag / ctlive" || true
ratio replay-ctlive replay-fb "in_forward alone: ctlive's stream / Fluent Bit's" || true
# Fluent Bit's own outputs carrying the records the plugin makes:
# enriched-forward (or -stdout) less the enriched input's own cost
# (enriched-null), plus the log's tail (null). Fluent Bit's forward output
# sends Forward-mode arrays, which in_forward decodes and encodes again;
# the plugin sends PackedForward, so for the forward loop null +
# replay-ctlive is the cost of carrying its records (README: Performance).
if [ -n "${med[null]:-}" ] && [ -n "${med[enriched-null]:-}" ]; then
	for out in forward stdout; do
		[ -n "${med[enriched-$out]:-}" ] || continue
		med[fb-$out-enriched]=$(awk -v t="${med[null]}" -v e="${med[enriched-$out]}" -v n="${med[enriched-null]}" 'BEGIN {printf "%.2f", t + e - n}')
		printf '%-50s %5.2f s\n' "Fluent Bit's $out carrying ctlive's records" "${med[fb-$out-enriched]}"
	done
	ratio ctlive-forward fb-forward-enriched "forward loop: ctlive / Fluent Bit's with its records" || true
	ratio ctlive-stdout fb-stdout-enriched "stdout: ctlive / Fluent Bit's with its records" || true
fi
if [ -n "${med[null]:-}" ] && [ -n "${med[replay-ctlive]:-}" ]; then
	med[carry-ctlive]=$(awk -v t="${med[null]}" -v r="${med[replay-ctlive]}" 'BEGIN {printf "%.2f", t + r}')
	ratio carry-ctlive fb-forward "forward loop: tail + in_forward of ctlive's stream / Fluent Bit's" || true
fi
# The forward loop in parts: tail (the null row), in_forward fed the
# stream (replay-*), and the rest, the output itself.
if [ -n "${med[null]:-}" ]; then
	for out in fb ctlive; do
		if [ -n "${med[$out-forward]:-}" ] && [ -n "${med[replay-$out]:-}" ]; then
			awk -v all="${med[$out-forward]}" -v tail="${med[null]}" -v rin="${med[replay-$out]}" -v o="$out" -v n="$lines" \
				'BEGIN {printf "%-50s %5.2f s (%.2f µs/line)\n", o "-forward less tail and in_forward", all - tail - rin, (all - tail - rin) / n * 1e6}'
		fi
	done
fi
