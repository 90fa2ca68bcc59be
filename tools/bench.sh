#!/bin/bash
# SPDX-License-Identifier: MIT
# make bench: every scenario of the performance issue against echod and three reference
# servers (the blocking floor, xinetd's builtin echo, socat fork PIPE) in one run, one table;
# and the cost of echod's metrics endpoint: echod-metrics is echod with a `metrics` block,
# scraped once a second during its c=50 ping-pong runs (issue 12).
#
# Environment (defaults for a 2-core machine):
#   SERVER_CPUS=0 LOAD_CPUS=1   taskset CPU lists for the servers and for echod-bench
#   WORKERS=1                   echod's `workers` (match the number of SERVER_CPUS)
#   LOAD_THREADS=1              echod-bench -T
#   DURATION=2 WARMUP=0.5       seconds measured / warmed up per run
#   REPEAT=5                    runs of each throughput scenario; every figure is their median
#   IDLE_C=15000                idle connections held against echod and the floor
#   IDLE_FORK_C=500             ... against xinetd and socat (a process per connection)
#   SERVERS="echod echod-metrics floor xinetd socat"   which servers to run
#   BENCH_KEEP=DIR              keep every run's JSON line and stderr there
# Exit status: 0 when every target holds, 1 otherwise (echod missing included).
# Installs nothing; needs util-linux (setsid, taskset), iproute2 (ss), procps (ps, pkill), xinetd,
# socat, coreutils (timeout). The scraper speaks HTTP through bash's /dev/tcp: no curl needed.
set -u

BIN=${BENCH_BIN:-$(cd "$(dirname "$0")" && pwd)}
ECHOD=${ECHOD:-$BIN/../src/echod}
BENCH=$BIN/echod-bench
FLOOR=$BIN/echo-floor
READY=$BIN/bench-ready
SERVER_CPUS=${SERVER_CPUS:-0}
LOAD_CPUS=${LOAD_CPUS:-1}
WORKERS=${WORKERS:-1}
LOAD_THREADS=${LOAD_THREADS:-1}
DURATION=${DURATION:-2}
WARMUP=${WARMUP:-0.5}
REPEAT=${REPEAT:-5}
IDLE_C=${IDLE_C:-15000}
IDLE_FORK_C=${IDLE_FORK_C:-500}
SERVERS=${SERVERS:-echod echod-metrics floor xinetd socat}

tmp=$(mktemp -d "${TMPDIR:-/tmp}/echod-bench.XXXXXX") || exit 1
res=${BENCH_KEEP:-$tmp/res}
mkdir -p "$res"
pids=()
ports_taken=" "
declare -A port pid missing base
metrics_port="" scraper=""

# Every server runs in its own session (setsid), so its whole group, forked children
# included, goes with one kill of the group id we recorded.
cleanup() {
	local p
	[ -n "$scraper" ] && kill -TERM -- "-$scraper" 2>/dev/null
	for p in "${pids[@]}"; do kill -TERM -- "-$p" 2>/dev/null; done
	sleep 0.2
	for p in "${pids[@]}"; do kill -KILL -- "-$p" 2>/dev/null; done
	wait 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

say() { printf '%s\n' "$*" >&2; }

# A loopback port below the ephemeral range with neither a TCP nor a UDP socket on it.
free_port() {
	local p
	while :; do
		p=$((20000 + RANDOM % 12000))
		case $ports_taken in *" $p "*) continue ;; esac
		[ -z "$(ss -Htuan "sport = :$p" 2>/dev/null)" ] && break
	done
	ports_taken="$ports_taken$p "
	echo "$p"
}

# start NAME PROTO PORT CMD...: start pinned in a new session, wait until PORT listens.
start() {
	local name=$1 proto=$2 p=$3
	shift 3
	setsid taskset -c "$SERVER_CPUS" "$@" >"$tmp/$name.log" 2>&1 &
	pid[$name]=$!
	pids+=("$!")
	for _ in $(seq 100); do
		if ! kill -0 "${pid[$name]}" 2>/dev/null; then
			say "$name: exited at start: $(tail -n 3 "$tmp/$name.log")"
			missing[$name]="failed to start"
			return 1
		fi
		if [ -n "$(ss -Hln"${proto:0:1}" "sport = :$p" 2>/dev/null)" ]; then
			base[$name]=$(threads_of "${pid[$name]}")
			return 0
		fi
		sleep 0.05
	done
	missing[$name]="not listening"
	return 1
}

# settle_start NAME THREADS: wait (1 s at most) until the server has started its threads,
# then take that as the count settle() waits to come back to.
settle_start() {
	local _
	for _ in $(seq 20); do
		[ "$(threads_of "${pid[$1]}")" -ge "$2" ] && break
		sleep 0.05
	done
	base[$1]=$(threads_of "${pid[$1]}")
}

# Threads of every process of a server's session (its pid is the session id).
threads_of() {
	ps -L -o lwp= --sid "$1" 2>/dev/null | wc -l
}

# Wait (10 s at most) until every server is back to the threads and processes it started
# with: 15000 threads or 500 processes ending after a run share the server CPUs with the
# next run, which would otherwise measure the teardown. What is still there after 10 s
# never ends by itself (xinetd keeps a few children of the idle run blocked in read()): it
# becomes the new baseline, said on stderr, so that later runs do not wait for it again.
settle() {
	local s n deadline=$((SECONDS + 10))
	for s in "${!base[@]}"; do
		while n=$(threads_of "${pid[$s]}") && [ "$n" -gt "${base[$s]}" ] &&
			[ $SECONDS -lt $deadline ]; do
			sleep 0.1
		done
		if [ "$n" -gt "${base[$s]}" ]; then
			say "  settle: $s kept $n threads and processes (was ${base[$s]})"
			base[$s]=$n
		fi
	done
}

echod_config() {	# FILE TCP-PORT... -- UDP-PORT... [-- STAMP-PORT...]
	local f=$1 proto=tcp sep="" p
	shift
	{
		echo "listeners = ("
		for p in "$@"; do
			if [ "$p" = -- ]; then
				[ "$proto" = tcp ] && proto=udp || proto=stamp
				continue
			fi
			printf '%s\t{ protocol = "%s"; port = %s; address = "127.0.0.1"; }' \
				"$sep" "$proto" "$p"
			sep=$',\n'
		done
		printf '\n);\nlimits = { max_connections = 20000; idle_timeout = 0;'
		printf ' buffer_size = 65536; };\nworkers = %s;\n' "$WORKERS"
		# No control socket: the default, /run/echod/control, belongs to the system's
		# echod, and echod and echod-metrics run at the same time.
		printf 'control_socket = "";\n'
	} >"$f"
}

# xinetd's own limits are raised so that xinetd is measured, not its rate limiter:
# instances and per_source unlimited, cps 100000 per second before a 1 s pause (default 50 10).
# Its listen backlog is compiled in (64) and cannot be raised.
xinetd_config() {	# FILE PORT
	cat >"$1" <<-EOF
	defaults
	{
		instances = UNLIMITED
		per_source = UNLIMITED
		cps = 100000 1
		log_type = FILE $tmp/xinetd-service.log
		log_on_success =
		log_on_failure =
	}
	service echo
	{
		type = INTERNAL UNLISTED
		id = echo-stream
		socket_type = stream
		protocol = tcp
		wait = no
		user = root
		bind = 127.0.0.1
		# No libwrap: it would look up peers' names, i.e. send DNS queries off loopback.
		flags = NOLIBWRAP
		port = $2
	}
	service echo
	{
		type = INTERNAL UNLISTED
		id = echo-dgram
		socket_type = dgram
		protocol = udp
		wait = yes
		user = root
		bind = 127.0.0.1
		# No libwrap: it would look up peers' names, i.e. send DNS queries off loopback.
		flags = NOLIBWRAP
		port = $2
	}
	EOF
}

start_servers() {
	local s p
	for s in $SERVERS; do
		p=$(free_port)
		port[$s]=$p
		case $s in
		echod)
			if [ ! -x "$ECHOD" ]; then
				missing[echod]="missing ($ECHOD not built)"
				continue
			fi
			# Its STAMP reflector is a third port of the same process (echod-stamp).
			port[echod-stamp]=$(free_port)
			echod_config "$tmp/echod.conf" "$p" -- "$p" -- "${port[echod-stamp]}"
			start echod t "$p" "$ECHOD" -c "$tmp/echod.conf" &&
				start_udp_check echod "$p"
			;;
		echod-metrics)
			if [ ! -x "$ECHOD" ]; then
				missing[$s]="missing ($ECHOD not built)"
				continue
			fi
			# echod's configuration plus the endpoint, on a port of its own.
			metrics_port=$(free_port)
			echod_config "$tmp/$s.conf" "$p" -- "$p"
			printf 'metrics = { address = "127.0.0.1"; port = %s; };\n' \
				"$metrics_port" >>"$tmp/$s.conf"
			start "$s" t "$p" "$ECHOD" -c "$tmp/$s.conf" &&
				start_udp_check "$s" "$p" && start_metrics_check
			;;
		floor)
			# The batched UDP floor is a second UDP port of the same process.
			port[floor-batch]=$(free_port)
			start floor t "$p" "$FLOOR" -t "$p" -u "$p" -b "${port[floor-batch]}" &&
				start_udp_check floor-batch "${port[floor-batch]}" &&
				settle_start floor 4	# main, TCP, UDP and batched UDP threads
			pid[floor-batch]=${pid[floor]}
			;;
		xinetd)
			if ! command -v xinetd >/dev/null; then
				missing[xinetd]="not installed (Debian package xinetd)"
				continue
			fi
			xinetd_config "$tmp/xinetd.conf" "$p"
			start xinetd t "$p" xinetd -dontfork -filelog "$tmp/xinetd.log" \
				-f "$tmp/xinetd.conf"
			;;
		socat)
			if ! command -v socat >/dev/null; then
				missing[socat]="not installed (Debian package socat)"
				continue
			fi
			# socat's default backlog is 5; raised so connects are not dropped.
			start socat t "$p" socat \
				"TCP-LISTEN:$p,bind=127.0.0.1,reuseaddr,fork,backlog=4096" PIPE
			start socat-udp u "$p" socat \
				"UDP-LISTEN:$p,bind=127.0.0.1,reuseaddr,fork" PIPE
			;;
		esac
	done
}

start_udp_check() {	# NAME PORT: the UDP listener is up too
	for _ in $(seq 100); do
		[ -n "$(ss -Hlnu "sport = :$2" 2>/dev/null)" ] && return 0
		sleep 0.05
	done
	say "$1: no UDP listener on port $2"
}

# echod-metrics serves /metrics: one scrape answers 200 (its HTTP thread is up by then, so
# the thread count settle() comes back to includes it); else the column is not run.
start_metrics_check() {
	local st=""
	for _ in $(seq 100); do
		st=$(scrape_once "$metrics_port")
		[ "$st" = 200 ] && break
		sleep 0.05
	done
	if [ "$st" != 200 ]; then
		say "echod-metrics: /metrics on port $metrics_port answered ${st:-nothing}:" \
			"$(tail -n 3 "$tmp/echod-metrics.log")"
		missing[echod-metrics]="metrics endpoint not serving"
		return 1
	fi
	base[echod-metrics]=$(threads_of "${pid[echod-metrics]}")
}

# scrape_once PORT: GET /metrics as Prometheus does, reading the whole answer (2 s at most);
# prints 200 for a 200 with echod's metrics in it, else the status, or "fail".
scrape_once() {
	local r
	{ exec 3<>"/dev/tcp/127.0.0.1/$1"; } 2>/dev/null || { echo fail; return; }
	printf 'GET /metrics HTTP/1.1\r\nHost: 127.0.0.1:%s\r\n%s\r\n%s\r\n\r\n' "$1" \
		"Accept: text/plain;version=0.0.4" "Connection: close" >&3
	r=$(timeout 2 cat <&3)
	exec 3<&-
	case $r in
	"HTTP/1."?" 200 "*"# TYPE echod_"*) echo 200 ;;
	"HTTP/1."?" "[0-9][0-9][0-9]*) r=${r#HTTP/1.? }; echo "${r:0:3}" ;;
	*) echo fail ;;
	esac
}

# scrape_loop PORT FILE SECONDS: a scrape a second, its status appended to FILE, for
# SECONDS at most (run() stops it sooner, when the run it accompanies ends).
scrape_loop() {
	local end=$((SECONDS + $3))
	while [ $SECONDS -lt "$end" ]; do
		scrape_once "$1" >>"$2"
		sleep 1
	done
}

# scraper_start FILE: scrape_loop on the load CPUs, in a session of its own (cleanup() ends
# it too), for the length of one run and 10 s more; its session id in $scraper.
scraper_start() {
	local limit
	limit=$(awk -v w="$WARMUP" -v d="$DURATION" 'BEGIN { printf "%d", w + d + 11 }')
	: >"$1"
	setsid taskset -c "$LOAD_CPUS" bash -c "$(declare -f scrape_once scrape_loop)
		scrape_loop $(printf '%q ' "$metrics_port" "$1" "$limit")" </dev/null 2>/dev/null &
	scraper=$!
}

scraper_stop() {
	kill -TERM -- "-$scraper" 2>/dev/null
	wait "$scraper" 2>/dev/null
	scraper=""
}

# run ID SERVER ARGS...: one echod-bench run, its JSON line in $out/ID.SERVER.json.
# $out is $res, or $res/reps for a repeated run; the load runs on $cpus (LOAD_CPUS).
# Server "floor-batch" is the floor's batched UDP port; socat's UDP server is another process;
# "echod-stamp" is echod's STAMP port (its figures go in echod's column).
# echod-metrics runs the c=50 ping-pong (pp50) only, scraped meanwhile ($dir/$id.$col.scrapes).
run() {
	local id=$1 s=$2 target=$2 col=$2 rc dir=${out:-$res}
	shift 2
	[ "$s" = socat ] && [ "$1" = udp-pingpong ] && target=socat-udp
	[ "$s" = floor-batch ] && col=floor
	[ "$s" = echod-stamp ] && target=echod && col=echod
	[ "$s" = echod-metrics ] && [ "${id%-r*}" != pp50 ] && return
	if [ -n "${missing[$col]:-}" ] || [ -z "${pid[$target]:-}" ]; then
		return
	fi
	say "  $id: $s"
	[ "$s" = echod-metrics ] && scraper_start "$dir/$id.$col.scrapes"
	taskset -c "${cpus:-$LOAD_CPUS}" "$BENCH" --json -p "${port[$s]}" \
		--pid "${pid[$target]}" -T "$LOAD_THREADS" -m "$@" >"$dir/$id.$col.json" \
		2>"$dir/$id.$col.err"
	rc=$?
	[ -n "${scraper:-}" ] && scraper_stop
	echo "$rc" >"$dir/$id.$col.rc"
	# socat's UDP children (one per peer) never exit by themselves: end them here.
	[ "$target" = socat-udp ] && pkill -TERM -P "${pid[socat-udp]}"
	settle
}

# The median of every figure over the repeated runs' JSON lines (standard input), as one
# JSON line; error counters are summed instead, so an error in any run shows.
median_json() {
	awk '
	function flush(k,   c, i, j, t) {
		c = cnt[k]
		for (i = 1; i <= c; i++) a[i] = val[k, i]
		if (a[1] !~ /^-?[0-9.]+$/) return a[1]
		if (k ~ /^"(errors|mismatch|reset|stall|loss|late|connect_fail|fd_leak)"$/) {
			t = 0
			for (i = 1; i <= c; i++) t += a[i]
			return t
		}
		for (i = 2; i <= c; i++)
			for (j = i; j > 1 && a[j - 1] + 0 > a[j] + 0; j--) {
				t = a[j]; a[j] = a[j - 1]; a[j - 1] = t
			}
		return c % 2 ? a[(c + 1) / 2] : (a[c / 2] + a[c / 2 + 1]) / 2
	}
	{
		line = $0
		sub(/^\{/, "", line)
		sub(/\}$/, "", line)
		n = split(line, kv, ",")
		for (i = 1; i <= n; i++) {
			k = kv[i]; sub(/:.*/, "", k)
			v = kv[i]; sub(/^[^:]*:/, "", v)
			if (!(k in cnt)) order[++nk] = k
			val[k, ++cnt[k]] = v
		}
	}
	END {
		if (nk == 0) exit
		printf "{"
		for (j = 1; j <= nk; j++)
			printf "%s%s:%s", (j > 1 ? "," : ""), order[j], flush(order[j])
		print "}"
	}'
}

# combine ID SERVER: the repeated runs of ID against SERVER as one result in $res.
combine() {
	local id=$1 s=$2 f rc=0 r
	for f in "$res/reps/$id"-r*".$s.rc"; do
		[ -e "$f" ] || return 0
		r=$(cat "$f")
		[ "$r" -gt "$rc" ] && rc=$r
	done
	cat "$res/reps/$id"-r*".$s.json" 2>/dev/null | grep '^{' | median_json \
		>"$res/$id.$s.json"
	cat "$res/reps/$id"-r*".$s.err" >"$res/$id.$s.err"
	echo "$rc" >"$res/$id.$s.rc"
}

# The start-up scenario: 4 TCP + 4 UDP listeners, fork to READY=1, median of 5 starts.
run_startup() {
	local s ports=()
	for _ in 1 2 3 4 5 6 7 8; do ports+=("$(free_port)"); done
	for s in $SERVERS; do
		case $s in
		echod)
			[ -n "${missing[echod]:-}" ] && continue
			echod_config "$tmp/echod8.conf" "${ports[@]:0:4}" -- "${ports[@]:4:4}"
			set -- "$ECHOD" -c "$tmp/echod8.conf"
			;;
		floor)
			set -- "$FLOOR" -t "${ports[0]}" -t "${ports[1]}" -t "${ports[2]}" \
				-t "${ports[3]}" -u "${ports[4]}" -u "${ports[5]}" \
				-u "${ports[6]}" -u "${ports[7]}"
			;;
		*) continue ;;
		esac
		say "  startup: $s"
		taskset -c "$SERVER_CPUS" "$READY" -n 5 -j "$@" >"$res/startup.$s.json" \
			2>"$res/startup.$s.err"
		echo $? >"$res/startup.$s.rc"
	done
}

# pp50_servers ROUND: $SERVERS, with echod and echod-metrics swapped in even rounds, so that
# which of the two runs first in a round (their ratio is a 3 % target) does not bias it.
pp50_servers() {
	local s swap=0
	if [[ " $SERVERS " == *" echod "* && " $SERVERS " == *" echod-metrics "* ]]; then
		swap=$(($1 % 2 == 0))
	fi
	for s in $SERVERS; do
		if [ $swap = 1 ]; then
			case $s in echod) s=echod-metrics ;; echod-metrics) s=echod ;; esac
		fi
		printf '%s ' "$s"
	done
}

# One round of the repeated scenarios, every server in turn, so that a slow spell of the
# machine hits all of them alike; the medians over the rounds go in the table.
run_round() {	# ROUND
	local s r=$1
	say " round $r of $REPEAT"
	for s in $(pp50_servers "$r"); do
		run "pp50-r$r" "$s" tcp-pingpong -c 50 -s 64 "${timing[@]}"
	done
	for s in $SERVERS; do run "pp500-r$r" "$s" tcp-pingpong -c 500 -s 64 "${timing[@]}"; done
	for s in $SERVERS; do
		run "pp16k-r$r" "$s" tcp-pingpong -c 50 -s 16384 "${timing[@]}"
	done
	for s in $SERVERS; do run "stream-r$r" "$s" tcp-stream -c 10 -w 256K "${timing[@]}"; done
	run "stream1-r$r" floor tcp-stream -c 1 -w 256K "${timing[@]}"
	for s in $SERVERS; do run "udp-r$r" "$s" udp-pingpong -c 50 -s 64 "${timing[@]}"; done
	run "udpb-r$r" floor-batch udp-pingpong -c 50 -s 64 "${timing[@]}"
	run "stamp-r$r" echod-stamp stamp-pingpong -c 50 -s 64 "${timing[@]}"
	# Without traffic between CPUs: the load shares the server's CPUs (a diagnostic).
	cpus=$SERVER_CPUS run "udp1-r$r" echod udp-pingpong -c 50 -s 64 "${timing[@]}"
	cpus=$SERVER_CPUS run "udpb1-r$r" floor-batch udp-pingpong -c 50 -s 64 "${timing[@]}"
	for s in $SERVERS; do run "connect-r$r" "$s" tcp-connect -c 50 -s 64 "${timing[@]}"; done
}

# The idle scenario comes after the rounds: tearing down 15000 threads and 500 processes
# goes on in the kernel for a while after the servers are back to their own threads.
run_all() {
	local s c id
	mkdir -p "$res/reps"
	for r in $(seq "$REPEAT"); do
		out=$res/reps run_round "$r"
	done
	for id in pp50 pp500 pp16k stream stream1 udp udpb udp1 udpb1 stamp connect; do
		for s in $SERVERS; do combine "$id" "$s"; done
	done
	for s in $SERVERS; do
		c=$IDLE_C
		case $s in xinetd | socat) c=$IDLE_FORK_C ;; esac
		run idle "$s" idle -c "$c" -s 64 -d 1 --warmup 0
	done
	run_startup
	run_floor tfloor tcp-floor
	run_floor ufloor udp-floor
	run_floor bfloor udp-batch-floor
}

# The syscall floor: recv+send with nothing to wait for, measured on the server CPUs.
run_floor() {	# ID MODE
	say "  $1: no server"
	taskset -c "$SERVER_CPUS" "$BENCH" --json -m "$2" -s 64 -d 1 >"$res/$1.floor.json" \
		2>"$res/$1.floor.err"
	echo $? >"$res/$1.floor.rc"
}

# --- reading the results ------------------------------------------------------------------

# get ID SERVER KEY: a value from that run's JSON line, empty when absent.
get() {
	local f=$res/$1.$2.json
	[ -s "$f" ] || return 0
	sed -n "s/.*\"$3\":\([^,}]*\).*/\1/p" "$f"
}

errors() {	# ID SERVER: the run's error count, "fail" when it produced no result
	local e
	[ -f "$res/$1.$2.rc" ] || return 0
	e=$(get "$1" "$2" errors)
	echo "${e:-fail}"
}

# cell ID SERVER KEY FORMAT: the value, "E<n>" appended when the run counted errors.
cell() {
	local v e
	if [ ! -f "$res/$1.$2.rc" ]; then
		case ${missing[$2]:-} in
		missing*) echo "missing" ;;
		"") echo "-" ;;
		*) echo "n/a" ;;
		esac
		return
	fi
	v=$(get "$1" "$2" "$3")
	e=$(errors "$1" "$2")
	[ -z "$v" ] && { echo "fail"; return; }
	v=$(awk -v v="$v" -v f="$4" 'BEGIN { printf f, v }')
	[ "$e" != 0 ] && v="$v E$e"
	echo "$v"
}

ratio() {	# A B: A/B to two decimals, empty when either is missing or B is 0
	awk -v a="$1" -v b="$2" \
		'BEGIN { if (a != "" && b != "" && b + 0 != 0) printf "%.2f", a / b }'
}

# judge COND V ERRORS: PASS when awk's COND holds for v = V and echod counted no error;
# n/a when echod is missing or V could not be computed (a reference did not run).
judge() {
	if [ -n "${missing[echod]:-}" ] || [ -z "$2" ]; then
		echo "n/a"
	elif [ "$3" != 0 ]; then
		echo FAIL
	else
		awk -v v="$2" "BEGIN { exit !($1) }" && echo PASS || echo FAIL
	fi
}

fmt="| %-26s | %-22s | %12s | %12s | %12s | %12s | %-22s | %-24s | %-6s |\n"

row() {	# SCENARIO METRIC ECHOD FLOOR XINETD SOCAT RATIO TARGET RESULT
	# shellcheck disable=SC2059
	printf "$fmt" "$@"
	case $9 in PASS | -) ;; *) fail=1 ;; esac
}

cells() {	# ID KEY FORMAT: the four server cells
	local s
	for s in echod floor xinetd socat; do cell "$1" "$s" "$2" "$3"; done
}

# A target relative to another figure: R is echod's figure over the reference's.
rel_row() {	# SCEN METRIC ID KEY FORMAT R LABEL COND TARGET
	local c
	mapfile -t c < <(cells "$3" "$4" "$5")
	row "$1" "$2" "${c[@]}" "${6:+$7 $6}" "$9" "$(judge "$8" "$6" "$(errors "$3" echod)")"
}

# A target on echod's own figure.
abs_row() {	# SCEN METRIC ID KEY FORMAT COND TARGET
	local c
	mapfile -t c < <(cells "$3" "$4" "$5")
	row "$1" "$2" "${c[@]}" "" "$7" "$(judge "$6" "$(get "$3" echod "$4")" \
		"$(errors "$3" echod)")"
}

# The syscall floor next to echod's figure of scenario ID.
floor_row() {	# SCEN FLOOR-ID ID [METRIC]
	local r
	r=$(ratio "$(get "$3" echod server_cpu_us_per_op)" "$(get "$2" floor p50_us)")
	row "$1" "${4:-us, p50, no wait}" "-" "$(cell "$2" floor p50_us %.2f)" "-" "-" \
		"${r:+echod/this $r}" "reference (issue: ~1.8)" "-"
}

# echod's CPU per datagram next to the batched floor's (recvmmsg/sendmmsg and nothing else).
batch_row() {	# SCEN ID FLOOR-ID
	local r
	r=$(ratio "$(get "$2" echod server_cpu_us_per_op)" "$(get "$3" floor server_cpu_us_per_op)")
	row "$1" "us/dgram, batch floor" "$(cell "$2" echod server_cpu_us_per_op %.2f)" \
		"$(cell "$3" floor server_cpu_us_per_op %.2f)" "-" "-" "${r:+echod/floor $r}" \
		"reference" "-"
}

# The cost of the metrics endpoint (issue 12): echod-metrics' CPU per round trip, scraped
# once a second, over echod's without the endpoint (paired per round, as vs() does); then
# the scrapes of those runs: every one must have been a 200 with the metrics in it.
metrics_rows() {
	local r n="" t=0 f
	r=$(vs pp50 server_cpu_us_per_op pp50 echod echod-metrics)
	row "tcp-pingpong c=50 s=64" "server us/round trip, metrics + 1 scrape/s vs off" \
		"$(cell pp50 echod-metrics server_cpu_us_per_op %.2f)" "-" "-" "-" \
		"${r:+metrics/off $r}" "<= 1.03x off" \
		"$(judge "v <= 1.03" "$r" "$(errors pp50 echod-metrics)")"
	for f in "$res"/reps/pp50-r*.echod-metrics.scrapes; do
		[ -e "$f" ] || continue
		n=$((${n:-0} + $(grep -c '^200$' "$f")))
		t=$((t + $(wc -l <"$f")))
	done
	row "tcp-pingpong c=50 s=64" "scrapes served (200)" "${n:--}" "-" "-" "-" \
		"${n:+of $t tried}" "every scrape 200" "$(judge "v == $t && v > 0" "$n" 0)"
}

info_row() {	# SCEN METRIC ID KEY FORMAT: figures only, no target
	local c
	mapfile -t c < <(cells "$3" "$4" "$5")
	row "$1" "$2" "${c[@]}" "" "" "-"
}

# vs ID KEY REF-ID REF-SERVER [SERVER]: SERVER's figure (default echod) over the reference's.
# For repeated scenarios, the median of the ratios within each round: the two runs of a round
# are seconds apart, so the machine's speed, which drifts by tens of percent between rounds
# on a shared VM, cancels.
vs() {
	if [ ! -e "$res/reps/$1-r1.${5:-echod}.json" ]; then
		ratio "$(get "$1" "${5:-echod}" "$2")" "$(get "$3" "$4" "$2")"
		return
	fi
	rounds "$@" | tr ' ' '\n' | grep . | sort -g | awk '{ v[NR] = $1 }
		END { if (NR) printf "%.2f", NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

rounds() {	# ID KEY REF-ID REF-SERVER [SERVER]: the ratio in each round, in round order
	local r sep=""
	for r in $(seq "$REPEAT"); do
		printf '%s%s' "$sep" "$(ratio "$(get "reps/$1-r$r" "${5:-echod}" "$2")" \
			"$(get "reps/$3-r$r" "$4" "$2")")"
		sep=" "
	done
}

# The rounds behind each target ratio, so that a median near its target shows how near.
round_ratios() {
	[ -e "$res/reps/pp50-r1.echod.json" ] || return 0
	echo "Ratios in each round, in order (the table gives their median):"
	echo "- echod/floor, CPU per round trip: $(rounds pp50 server_cpu_us_per_op pp50 floor)"
	echo "- metrics/off, echod CPU per round trip:" \
		"$(rounds pp50 server_cpu_us_per_op pp50 echod echod-metrics)"
	echo "- echod/xinetd, c=50 round trips/s: $(rounds pp50 ops_per_s pp50 xinetd)"
	echo "- stamp/udp, echod CPU per datagram: $(rounds stamp server_cpu_us_per_op udp echod)"
	echo "- c500/c50, echod round trips/s: $(rounds pp500 ops_per_s pp50 echod)"
	echo "- echod/xinetd, 16 KiB round trips/s: $(rounds pp16k ops_per_s pp16k xinetd)"
	echo "- echod/floor1, stream MB/s: $(rounds stream mb_per_s stream1 floor)"
	echo "- echod/xinetd, connections/s: $(rounds connect ops_per_s connect xinetd)"
}

table() {
	# shellcheck disable=SC2059
	printf "$fmt" scenario metric echod floor xinetd socat ratio target result
	printf '|%s|%s|%s|%s|%s|%s|%s|%s|%s|\n' ---------------------------- \
		------------------------ -------------: -------------: -------------: \
		-------------: ------------------------ -------------------------- --------
	rel_row "tcp-pingpong c=50 s=64" "server us/round trip" pp50 server_cpu_us_per_op %.2f \
		"$(vs pp50 server_cpu_us_per_op pp50 floor)" "echod/floor" "v <= 1.4" \
		"<= 1.4x floor"
	info_row "tcp-pingpong c=50 s=64" "server CPU %" pp50 server_cpu_pct %.0f
	floor_row "tcp recv+send, 64 B" tfloor pp50
	metrics_rows
	rel_row "tcp-pingpong c=50 s=64" "round trips/s" pp50 ops_per_s %.0f \
		"$(vs pp50 ops_per_s pp50 xinetd)" "echod/xinetd" "v >= 1.5" ">= 1.5x xinetd"
	rel_row "tcp-pingpong c=500 s=64" "round trips/s" pp500 ops_per_s %.0f \
		"$(vs pp500 ops_per_s pp50 echod)" "c500/c50" "v >= 0.9" \
		">= 0.9x c=50, no error"
	rel_row "tcp-pingpong c=50 s=16384" "round trips/s" pp16k ops_per_s %.0f \
		"$(vs pp16k ops_per_s pp16k xinetd)" "echod/xinetd" "v >= 20" ">= 20x xinetd"
	rel_row "tcp-stream c=10 w=256KiB" "verified MB/s" stream mb_per_s %.0f \
		"$(vs stream mb_per_s stream1 floor)" "echod/floor1" "v >= 0.75" \
		">= 0.75x floor c=1"
	info_row "tcp-stream c=1 w=256KiB" "verified MB/s" stream1 mb_per_s %.0f
	info_row "udp-pingpong c=50 s=64" "datagrams/s" udp ops_per_s %.0f
	abs_row "udp-pingpong c=50 s=64" "loss %" udp loss_pct %.3f "v == 0" "zero loss"
	abs_row "udp-pingpong c=50 s=64" "server us/datagram" udp server_cpu_us_per_op %.2f \
		"v <= 2" "<= 2 us"
	floor_row "udp recv+send, 64 B" ufloor udp
	floor_row "udp recvmmsg+sendmmsg x50" bfloor udp "us/dgram, p50, no wait"
	batch_row "udp-pingpong c=50 s=64" udp udpb
	batch_row "udp c=50, load on srv CPUs" udp1 udpb1
	abs_row "stamp-pingpong c=50 s=64" "loss %" stamp loss_pct %.3f "v == 0" "zero loss"
	rel_row "stamp-pingpong c=50 s=64" "server us/test packet" stamp server_cpu_us_per_op %.2f \
		"$(vs stamp server_cpu_us_per_op udp echod)" "stamp/udp" "v <= 1.2" \
		"<= 1.2x udp echo"
	rel_row "tcp-connect c=50" "connections/s" connect ops_per_s %.0f \
		"$(vs connect ops_per_s connect xinetd)" "echod/xinetd" "v >= 5" \
		">= 5x xinetd, no fd leak"
	abs_row "idle c=$IDLE_C" "user B/conn (RssAnon)" idle anon_bytes_per_conn %.0f \
		"v <= 256" "<= 256 B"
	abs_row "start-up, 8 listeners" "ms to READY=1, median" startup ready_ms_median %.2f \
		"v <= 10" "<= 10 ms"
}

# Every run that counted errors or produced nothing, with its counters and stderr.
problems() {
	local f id s k msg
	for f in "$res"/*.rc; do
		[ -e "$f" ] || continue
		id=$(basename "$f" .rc)
		s=${id#*.}
		id=${id%%.*}
		[ "$(errors "$id" "$s")" = 0 ] && continue
		printf -- '- %s %s (exit %s):' "$id" "$s" "$(cat "$f")"
		for k in mismatch reset stall loss connect_fail fd_leak; do
			[ -n "$(get "$id" "$s" $k)" ] && [ "$(get "$id" "$s" $k)" != 0 ] &&
				printf ' %s %s' "$k" "$(get "$id" "$s" $k)"
		done
		msg=$(grep -v '^echod-bench: .*error(s)$' "$res/$id.$s.err" | head -n 2 |
			tr '\n' ' ')
		printf '%s\n' "${msg:+ ${msg% }}"
	done
}

main() {
	local s t0 cmd load
	for cmd in "$BENCH" "$FLOOR" "$READY"; do
		[ -x "$cmd" ] || { say "bench: $cmd not built (run make)"; exit 1; }
	done
	for cmd in taskset setsid ss; do
		command -v $cmd >/dev/null ||
			{ say "bench: $cmd not found (util-linux, iproute2)"; exit 1; }
	done
	timing=(-d "$DURATION" --warmup "$WARMUP")
	t0=$SECONDS
	load=$(cut -d " " -f 1-3 /proc/loadavg)
	say "bench: servers on CPUs $SERVER_CPUS, load on CPUs $LOAD_CPUS, echod workers $WORKERS"
	start_servers
	run_all
	echo "## echod benchmark, $(date -u '+%Y-%m-%d %H:%M UTC')"
	echo
	echo "Machine: $(nproc) CPUs ($(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo |
		head -n 1)), kernel $(uname -r). Servers on CPUs $SERVER_CPUS, load on CPUs" \
		"$LOAD_CPUS; echod workers = $WORKERS, echod-bench -T $LOAD_THREADS;" \
		"$DURATION s measured after $WARMUP s warm-up per run, each figure the median of" \
		"$REPEAT runs (idle and start-up: one); took $((SECONDS - t0)) s;" \
		"load average before: $load."
	for s in $SERVERS; do
		[ -n "${missing[$s]:-}" ] && echo "$s: ${missing[$s]}."
	done
	echo
	fail=0
	table
	echo
	echo "E<n>: those runs counted n errors in all (mismatch, reset, stall, loss, connect,"
	echo "fd leak);"
	case " $SERVERS " in
	*" xinetd "* | *" socat "*)
		echo "xinetd and socat idle figures are for $IDLE_FORK_C connections" \
			"(a process each)."
		;;
	esac
	problems
	echo
	round_ratios
	if [ -n "${missing[echod]:-}" ]; then
		echo "echod: ${missing[echod]}; its column and the targets are not evaluated."
		return 1
	fi
	return $fail
}

main
