#!/bin/bash
# SPDX-License-Identifier: MIT
# The reload stall (issue 23): the worst echo round trip while `echodctl reload` runs,
# against the worst without. echod runs with `workers = 1` on 1000 UDP listeners on
# 127.0.0.1 (consecutive free ports), one TCP and one UDP echo listener and a stateful STAMP
# listener (stamp_sessions = 65536). A UDP and a TCP ping-pong (echod-bench, c=10) run
# DURATION seconds without reloads, then DURATION seconds while RELOADS reloads are made,
# spread over the window. It prints the slowest round trip (max) and the p99.9 of each
# phase: on a busy machine one scheduling delay sets the max, the p99.9 shows a stall
# that hits every reload (20 reloads x 10 round trips in flight is ~0.1 % of a run).
# A benchmark, not a test: it prints the figures, and exits 1 only when the run could not
# be made (echod missing, no free port range, no result from a client).
#
# Environment:
#   ECHOD=src/echod ECHODCTL=src/echodctl BENCH=tools/echod-bench   what to run
#   DURATION=5      seconds of each phase
#   RELOADS=20      reloads in the second phase
#   REPEAT=1        rounds of both phases (one echod); the figures are their medians
#   LISTENERS=1000  the extra UDP listeners
#   SERVER_CPUS=    taskset CPU list for echod (default: not pinned)
#   LOAD_CPUS=      taskset CPU list for the two echod-bench (default: not pinned)
# Loopback only; bounded: every command runs under timeout(1). Needs iproute2 (ss),
# util-linux (setsid, taskset), coreutils (timeout).
set -u

BIN=$(cd "$(dirname "$0")" && pwd)
ECHOD=${ECHOD:-$BIN/../src/echod}
ECHODCTL=${ECHODCTL:-$BIN/../src/echodctl}
BENCH=${BENCH:-$BIN/echod-bench}
DURATION=${DURATION:-5}
RELOADS=${RELOADS:-20}
REPEAT=${REPEAT:-1}
LISTENERS=${LISTENERS:-1000}
SERVER_CPUS=${SERVER_CPUS:-}
LOAD_CPUS=${LOAD_CPUS:-}

say() { printf '%s\n' "$*" >&2; }
die() { say "bench-reload: $*"; exit 1; }

for cmd in "$ECHOD" "$ECHODCTL" "$BENCH"; do
	[ -x "$cmd" ] || die "$cmd: not built"
done

tmp=$(mktemp -d "${TMPDIR:-/tmp}/echod-bench-reload.XXXXXX") || exit 1
# Started as root echod becomes nobody, and reads the file again at each reload.
chmod 755 "$tmp"
pid=""
cleanup() {
	[ -n "$pid" ] && kill -TERM -- "-$pid" 2>/dev/null && sleep 0.3 &&
		kill -KILL -- "-$pid" 2>/dev/null
	wait 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# load CMD...: run pinned to LOAD_CPUS when given.
load() {
	if [ -n "$LOAD_CPUS" ]; then
		taskset -c "$LOAD_CPUS" "$@"
	else
		"$@"
	fi
}

# A base port with LISTENERS + 3 consecutive ports free of TCP and UDP sockets.
used=" $(ss -Htuan 2>/dev/null | awk '{ n = split($5, a, ":"); print a[n] }' |
	sort -un | tr '\n' ' ') "
need=$((LISTENERS + 3))
base=""
for _ in $(seq 50); do
	b=$((20000 + RANDOM % (32000 - 20000 - need)))
	ok=1
	for ((p = b; p < b + need; p++)); do
		case $used in *" $p "*) ok=0; break ;; esac
	done
	[ $ok = 1 ] && { base=$b; break; }
done
[ -n "$base" ] || die "no $need consecutive free ports in 20000..32000"
echo_port=$base stamp_port=$((base + 1)) first=$((base + 2))

# write_conf SESSIONS_KEY: the configuration; SESSIONS_KEY is the stamp_sessions setting,
# empty for an echod older than it (whose table always had 65536 sessions).
conf=$tmp/echod.conf
write_conf() {
	printf 'control_socket = "%s/control.sock";\nworkers = 1;\n' "$tmp"
	printf 'limits = { max_connections_per_source = 0; connection_rate = 0; udp_rate = 0;'
	printf ' udp_max_reply_bytes_per_second = 0; };\n'
	printf 'exempt = [ "127.0.0.0/8" ];\nlisteners = (\n'
	printf '  { protocol = "tcp"; address = "127.0.0.1"; port = %d; },\n' "$echo_port"
	printf '  { protocol = "udp"; address = "127.0.0.1"; port = %d; },\n' "$echo_port"
	printf '  { protocol = "stamp"; address = "127.0.0.1"; port = %d;' "$stamp_port"
	printf ' stamp_mode = "stateful";%s }' "$1"
	for ((p = first; p < first + LISTENERS; p++)); do
		printf ',\n  { protocol = "udp"; address = "127.0.0.1"; port = %d; }' "$p"
	done
	printf '\n);\n'
}
write_conf " stamp_sessions = 65536;" >"$conf"
if "$ECHOD" -t -c "$conf" 2>&1 | grep -q "unknown key 'stamp_sessions'"; then
	say "bench-reload: $ECHOD predates stamp_sessions (its table: 65536 sessions)"
	write_conf "" >"$conf"
fi
chmod 644 "$conf"

srv=()
[ -n "$SERVER_CPUS" ] && srv=(taskset -c "$SERVER_CPUS")
# Its own session: one kill of the group ends it.
setsid "${srv[@]}" "$ECHOD" -c "$conf" --log-target=stderr --log-level=warning \
	>"$tmp/echod.log" 2>&1 &
pid=$!
ctl() { timeout 30 "$ECHODCTL" -s "$tmp/control.sock" "$@"; }
for _ in $(seq 200); do
	kill -0 "$pid" 2>/dev/null || die "echod exited at start: $(tail -n 3 "$tmp/echod.log")"
	ctl status >/dev/null 2>&1 && break
	sleep 0.05
done
ctl status >/dev/null 2>&1 || die "echod does not answer on its control socket"

# phase NAME RELOADS: both ping-pongs at once for DURATION s, reloading meanwhile.
phase() {
	local name=$1 n=$2 i gap failed=0 t u
	for m in udp tcp; do
		load timeout $((DURATION + 30)) "$BENCH" --json -p "$echo_port" \
			-m "$m-pingpong" -c 10 -s 64 -d "$DURATION" --warmup 0.5 \
			--loss-ms 5000 --stall-ms 10000 >"$tmp/$name.$m.json" 2>"$tmp/$name.$m.err" &
		eval "${m}_pid=\$!"
	done
	if [ "$n" -gt 0 ]; then
		# After the warm-up, RELOADS evenly over the measured window.
		gap=$(awk -v d="$DURATION" -v n="$n" 'BEGIN { printf "%.3f", (d - 0.5) / n }')
		sleep 0.7
		for ((i = 0; i < n; i++)); do
			t=$(date +%s%N)
			ctl reload >/dev/null 2>&1 || failed=$((failed + 1))
			u=$(date +%s%N)
			echo $(((u - t) / 1000)) >>"$tmp/reload_us"
			sleep "$(awk -v g="$gap" -v e=$(((u - t) / 1000)) \
				'BEGIN { s = g - e / 1e6; printf "%.3f", (s > 0 ? s : 0) }')"
		done
		[ $failed -eq 0 ] || say "$name: $failed of $n reloads failed"
	fi
	wait "$udp_pid" || say "$name udp: $(head -n 2 "$tmp/$name.udp.err")"
	wait "$tcp_pid" || say "$name tcp: $(head -n 2 "$tmp/$name.tcp.err")"
}

field() { sed -n "s/.*\"$2\":\([0-9.]*\).*/\1/p" "$1"; }
# worst NAME KEY: the larger KEY of the UDP and the TCP run of phase NAME.
worst() { printf '%s\n%s\n' "$(field "$tmp/$1.udp.json" "$2")" \
	"$(field "$tmp/$1.tcp.json" "$2")" | sort -g | tail -n 1; }
# median: of the numbers on stdin.
median() { sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }

printf 'echod %s, workers = 1, %d + 3 listeners, %d s a phase, %d reloads, %d round(s)\n' \
	"$ECHOD" "$LISTENERS" "$DURATION" "$RELOADS" "$REPEAT"
printf '%-5s %-8s %-4s %10s %10s %12s %12s\n' round phase mode ops/s p99_us p999_us max_us
for ((round = 1; round <= REPEAT; round++)); do
	phase quiet 0
	phase reload "$RELOADS"
	kill -0 "$pid" 2>/dev/null || die "echod died: $(tail -n 3 "$tmp/echod.log")"
	for ph in quiet reload; do
		for m in udp tcp; do
			f=$tmp/$ph.$m.json
			[ -s "$f" ] || die "$ph $m: no result ($(head -n 2 "$tmp/$ph.$m.err"))"
			printf '%-5s %-8s %-4s %10s %10s %12s %12s\n' "$round" "$ph" "$m" \
				"$(field "$f" ops_per_s)" "$(field "$f" p99_us)" \
				"$(field "$f" p999_us)" "$(field "$f" max_us)"
		done
		worst "$ph" max_us >>"$tmp/$ph.max"
		worst "$ph" p999_us >>"$tmp/$ph.p999"
	done
done
sort -n "$tmp/reload_us" | awk '{ v[NR] = $1 } END {
	printf "echodctl reload: median %.1f ms, slowest %.1f ms\n", v[int((NR + 1) / 2)] / 1000,
	    v[NR] / 1000 }'
for key in max p999; do
	q=$(median <"$tmp/quiet.$key") r=$(median <"$tmp/reload.$key")
	awk -v k="$key" -v q="$q" -v r="$r" -v n="$REPEAT" 'BEGIN {
		printf "worst %s round trip%s: %.0f us without reloads, %.0f us during " \
		    "reloads: %.2fx%s\n", k, (n > 1 ? " (median of the rounds)" : ""), q,
		    r, (q > 0 ? r / q : 0), (k == "max" ? " (goal: within 2x)" : "") }'
done
