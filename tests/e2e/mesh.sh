#!/bin/bash
# SPDX-License-Identifier: MIT
# The fleet's mesh end to end (issue 25): four network namespaces joined by veth pairs to a
# bridge in a fifth, one echod in each (the tree's build), Debian's prometheus scraping all
# four every second with the shipped prometheus-echod.yml, and nftables losing packets on two
# paths. STAMP sessions from every node to every other (echo-client) must see exactly the loss
# nftables made, Prometheus must see the reflectors count the packets that reached them, and
# a stopped echod must read up == 0 within three scrape intervals. Nothing here is a mock.
# The host's own network namespace is never touched: the bridge lives in a namespace too.
# Run as root: make check-mesh. Exit 0 pass, 1 fail, 77 skip (not root, a tool missing).
# MESH_COUNT (test packets per session, 1000), MESH_DROP_PERCENT (what nftables drops on the
# 10 % path, 10) and MESH_EXPECT_PERCENT (the loss the assertions expect there, the same) exist
# to see the test fail on a wrong expectation.
# check() evals its assertion, so the variables it reads look unused, quoted, to shellcheck:
# shellcheck disable=SC2016,SC2034
set -u

: "${ECHOD:=src/echod}" "${ECHO_CLIENT:=tools/echo-client}"
: "${ECHOD_MESH_PROMDIR:=etc/prometheus}" "${MESH_TIMEOUT:=180}"
: "${MESH_COUNT:=1000}" "${MESH_DROP_PERCENT:=10}"
: "${MESH_EXPECT_PERCENT:=$MESH_DROP_PERCENT}"

if [ "$(id -u)" -ne 0 ]; then
	echo "SKIP: mesh.sh needs root (network namespaces, nftables)"
	exit 77
fi
for tool in ip nft prometheus promtool python3 curl timeout; do
	if ! command -v "$tool" >/dev/null 2>&1; then
		echo "SKIP: mesh.sh needs $tool (tools/deps.sh test installs it)"
		exit 77
	fi
done
if ! ip netns list >/dev/null 2>&1; then
	echo "SKIP: mesh.sh: this kernel or container does not let us make network namespaces"
	exit 77
fi
# The whole run is bounded: re-run under timeout(1) once. --foreground keeps Ctrl-C reaching
# this shell, whose traps clean up; -k kills it if cleaning up ever hangs.
if [ -z "${ECHOD_MESH_TIMED:-}" ]; then
	export ECHOD_MESH_TIMED=1
	exec timeout --foreground -k 15 "$MESH_TIMEOUT" bash "$0" "$@"
fi

nodes="a b c d"
prefix="echod-mesh-$$"
br="$prefix-br"
declare -A addr6=([a]=fd00:99::1 [b]=fd00:99::2 [c]=fd00:99::3 [d]=fd00:99::4) pid=()
ip4() {
	case $1 in a) echo 10.99.0.1 ;; b) echo 10.99.0.2 ;; c) echo 10.99.0.3 ;; d) echo 10.99.0.4 ;; esac
}
prom=10.99.0.254:9090
tmp=
prom_pid=
fail=0

cleanup() {
	local p x
	trap '' INT TERM
	# Out of the job table: no "Killed" line per echo-client cut short.
	disown -a 2>/dev/null
	for p in "${pid[@]}" $prom_pid; do kill -TERM "$p" 2>/dev/null; done
	for p in "${pid[@]}" $prom_pid; do
		for _ in $(seq 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
		kill -KILL "$p" 2>/dev/null
	done
	# Anything else still in our namespaces is ours too (an echo-client cut short).
	for x in $nodes br; do
		ip netns pids "$prefix-$x" 2>/dev/null | xargs -r kill -KILL 2>/dev/null
		ip netns del "$prefix-$x" 2>/dev/null
	done
	[ -n "$tmp" ] && rm -rf "$tmp"
}
trap cleanup EXIT
trap 'echo "mesh.sh: interrupted"; exit 130' INT
trap 'echo "mesh.sh: terminated (timeout?)"; exit 143' TERM

die() { echo "FAIL: $*"; exit 1; }
phase() { echo "--- [${SECONDS} s] $*"; }
check() {
	if eval "$2"; then echo "ok: $1"; else echo "FAIL: $1"; fail=1; fi
}
# wait_for SECONDS CMD...: poll CMD every 0.1 s; 0 as soon as it succeeds, 1 at the deadline.
wait_for() {
	local end=$(($(date +%s%N) + $1 * 1000000000))
	shift
	while ! "$@"; do
		[ "$(date +%s%N)" -lt "$end" ] || return 1
		sleep 0.1
	done
}
now() { date +%s.%N; }
in_ns() { local ns=$1; shift; ip netns exec "$prefix-$ns" "$@"; }

tmp=$(mktemp -d /tmp/echod-mesh.XXXXXX) || exit 99
# echod becomes nobody, which must reach its control socket's directory to remove it.
chmod 755 "$tmp"

# --- the network: a bridge in its own namespace, a veth pair to each node ---------------
build_network() {
	local x n=1
	ip netns add "$br" || die "ip netns add $br"
	ip -n "$br" link set lo up
	ip -n "$br" link add br0 type bridge
	ip -n "$br" link set br0 up
	ip -n "$br" addr add 10.99.0.254/24 dev br0
	for x in $nodes; do
		ip netns add "$prefix-$x" || die "ip netns add $prefix-$x"
		ip -n "$prefix-$x" link set lo up
		# Made inside the bridge's namespace with its peer straight in the node's: the
		# host's namespace never holds either end.
		ip -n "$br" link add "v$x" type veth peer name eth0 netns "$prefix-$x" ||
			die "veth for $x"
		ip -n "$br" link set "v$x" master br0 up
		ip -n "$prefix-$x" addr add "$(ip4 "$x")/24" dev eth0
		ip -n "$prefix-$x" addr add "fd00:99::$n/64" dev eth0 nodad
		ip -n "$prefix-$x" link set eth0 up
		n=$((n + 1))
	done
}

# --- one echod per node ---------------------------------------------------------------------
# Each node's configuration reads the drop-ins of its conf.d/, empty today: the probe
# engine's mesh drop-in (a probes block naming all four addresses) goes there.
write_config() {
	local x=$1 n=$2 d="$tmp/$1"
	mkdir -p "$d/conf.d"
	cat >"$d/echod.conf" <<CONF
user = "nobody";
include_dir = "conf.d";
listeners = (
	{ protocol = "tcp"; port = 7; address = "$(ip4 "$x")"; },
	{ protocol = "udp"; port = 7; address = "$(ip4 "$x")"; },
	{ protocol = "stamp"; port = 862; address = "$(ip4 "$x")"; stamp_mode = "stateful"; },
	{ protocol = "stamp"; port = 862; address = "fd00:99::$n"; stamp_mode = "stateful"; }
);
metrics = { address = "$(ip4 "$x")"; port = 9110; };
control_socket = "$d/run/control";
workers = 2;
CONF
}

configs_ok() {
	local x
	for x in $nodes; do "$ECHOD" -t -c "$tmp/$x/echod.conf" >/dev/null || return 1; done
}

start_echod() {
	local x=$1
	# Not through in_ns: backgrounding a function forks a shell, and $! would be its pid.
	ip netns exec "$prefix-$x" "$ECHOD" -c "$tmp/$x/echod.conf" --log-target=stderr \
		2>"$tmp/$x/stderr" &
	pid[$x]=$!
	wait_for 10 grep -q "started" "$tmp/$x/stderr" ||
		{ cat "$tmp/$x/stderr"; die "echod in $x did not start"; }
}

# --- Prometheus, in the bridge's namespace ------------------------------------------------
# The shipped scrape configuration as it is, but for a 1 s interval: its file_sd job and
# relabelling make `instance` the echod's address without the port (the probes' `target`
# will name hosts the same way), and its rule file loads beside it.
start_prometheus() {
	local p="$tmp/prom" x
	mkdir -p "$p/data"
	sed -e 's/^  scrape_interval: 15s/  scrape_interval: 1s\n  scrape_timeout: 800ms/' \
		-e 's/^  evaluation_interval: 15s/  evaluation_interval: 1s/' \
		"$ECHOD_MESH_PROMDIR/prometheus-echod.yml" >"$p/prometheus-echod.yml"
	grep -q '^  scrape_interval: 1s$' "$p/prometheus-echod.yml" ||
		die "prometheus-echod.yml's global scrape_interval is no longer 15s: adapt mesh.sh"
	cp "$ECHOD_MESH_PROMDIR/echod-rules.yml" "$p/"
	{
		echo "- targets:"
		for x in $nodes; do echo "    - $(ip4 "$x"):9110"; done
		echo "  labels:"
		echo "    site: mesh"
	} >"$p/echod-targets.yml"
	check "promtool accepts the shipped scrape configuration at 1 s" \
		'promtool check config "$p/prometheus-echod.yml" >"$p/promtool.out" 2>&1'
	ip netns exec "$br" prometheus --config.file="$p/prometheus-echod.yml" \
		--storage.tsdb.path="$p/data" --web.listen-address="$prom" \
		--log.level=warn 2>"$p/stderr" &
	prom_pid=$!
	wait_for 30 in_ns br curl -sf -o /dev/null "http://$prom/-/ready" ||
		{ cat "$p/stderr"; die "prometheus did not become ready"; }
}

# promql EXPR: the instant query's result, one "instance value" line per series, sorted;
# a failed query (HTTP or PromQL error) prints nothing and returns 1.
promql() {
	in_ns br curl -sf -G --max-time 5 --data-urlencode "query=$1" \
		"http://$prom/api/v1/query" | python3 -c '
import json, sys
r = json.load(sys.stdin)
if r.get("status") != "success":
    sys.exit(1)
for s in sorted(r["data"]["result"], key=lambda s: s["metric"].get("instance", "")):
    print(s["metric"].get("instance", "-"), s["value"][1])
'
}
all_instances() { for x in $nodes; do echo "$(ip4 "$x") $1"; done; }
promql_is() { [ "$(promql "$1")" = "$2" ]; }

# --- loss: nftables inside the nodes' namespaces --------------------------------------------
# Path a->b loses MESH_DROP_PERCENT % of its UDP in the a->b direction: test packets a sends
# to b's reflector, and replies a's reflector sends to b. Path c->d loses all of its UDP in
# the c->d direction. Named counters say exactly how many packets each rule dropped.
inject_loss() {
	# Dropped where b receives them, as a network would: a drop in a's output hook
	# would fail a's send with EPERM, which a sender sees and a network never says.
	in_ns b nft -f - <<NFT || die "nft in b"
table inet mesh {
	counter ab_test {}
	counter ab_reply {}
	chain in {
		type filter hook input priority 0; policy accept;
		meta l4proto udp ip saddr $(ip4 a) ip daddr $(ip4 b) udp dport 862 \
			numgen random mod 100 < $MESH_DROP_PERCENT counter name "ab_test" drop
		meta l4proto udp ip saddr $(ip4 a) ip daddr $(ip4 b) udp sport 862 \
			numgen random mod 100 < $MESH_DROP_PERCENT counter name "ab_reply" drop
	}
}
NFT
	in_ns d nft -f - <<NFT || die "nft in d"
table inet mesh {
	counter cd_all {}
	chain in {
		type filter hook input priority 0; policy accept;
		meta l4proto udp ip saddr $(ip4 c) ip daddr $(ip4 d) counter name "cd_all" drop
	}
}
NFT
}
nft_dropped() {
	in_ns "$1" nft -j list counter inet mesh "$2" |
		python3 -c 'import json,sys
print([o["counter"]["packets"] for o in json.load(sys.stdin)["nftables"] if "counter" in o][0])'
}

# --- STAMP sessions: every node to every other, at once ------------------------------------
run_sessions() {
	local s r cl=()
	for s in $nodes; do
		for r in $nodes; do
			[ "$s" = "$r" ] && continue
			ip netns exec "$prefix-$s" "$ECHO_CLIENT" --stamp -c "$MESH_COUNT" -i 0.01 -W 1 --json \
				"$(ip4 "$r")" >"$tmp/s-$s-$r.json" 2>"$tmp/s-$s-$r.err" &
			cl+=($!)
		done
	done
	# The same reflectors over IPv6 (not matched by the IPv4 rules): the ULA path works.
	ip netns exec "$prefix-a" "$ECHO_CLIENT" --stamp -c 100 -i 0.01 -W 1 --json "${addr6[b]}" \
		>"$tmp/s6-a-b.json" 2>"$tmp/s6-a-b.err" &
	cl+=($!)
	# echo-client exits 1 on any loss: its verdict is read from the JSON, not its status.
	wait "${cl[@]}"
}
# summary FILE FIELD...: the JSON summary's fields (stamp.X for the stamp object), one line.
summary() {
	local f=$1
	shift
	tail -n 1 "$f" | python3 -c '
import json, sys
s = json.load(sys.stdin)
out = []
for k in sys.argv[1:]:
    v = s["stamp"].get(k[6:]) if k.startswith("stamp.") else s.get(k)
    out.append("null" if v is None else str(v))
print(" ".join(out))' "$@"
}

# binomial_bounds N PERCENT: the counts outside which a Binomial(N, PERCENT %) draw falls with
# probability under 1e-7 on each side (about 5.2 sigma): a correct echod fails one run in
# millions, yet 10 % read as 5 % or 15 % fails for N = 1000.
binomial_bounds() {
	python3 - "$1" "$2" <<'PY'
import math, sys
n, p = int(sys.argv[1]), float(sys.argv[2]) / 100
eps = 1e-7
pmf = [math.comb(n, k) * p**k * (1 - p)**(n - k) for k in range(n + 1)]
lo, acc = 0, 0.0
while lo < n and acc + pmf[lo] < eps:
    acc += pmf[lo]; lo += 1
hi, acc = n, 0.0
while hi > 0 and acc + pmf[hi] < eps:
    acc += pmf[hi]; hi -= 1
print(lo, hi)
PY
}

assert_stamp_matrix() {
	local s r sent recv lost fwd bwd und ab_test ab_reply cd_all lo hi
	read -r lo hi < <(binomial_bounds "$MESH_COUNT" "$MESH_EXPECT_PERCENT")
	ab_test=$(nft_dropped b ab_test)
	ab_reply=$(nft_dropped b ab_reply)
	cd_all=$(nft_dropped d cd_all)
	echo "nftables dropped: a->b test packets $ab_test, a->b replies $ab_reply," \
		"c->d $cd_all; ${MESH_EXPECT_PERCENT} % of $MESH_COUNT lies in [$lo, $hi]"
	echo "session  sent  received  lost  forward  backward  undetermined"
	for s in $nodes; do
		for r in $nodes; do
			[ "$s" = "$r" ] && continue
			read -r sent recv lost fwd bwd und < <(summary "$tmp/s-$s-$r.json" sent \
				received lost stamp.loss_forward stamp.loss_backward \
				stamp.loss_undetermined) || { fail=1; echo "FAIL: no summary $s->$r"; \
				cat "$tmp/s-$s-$r.err"; continue; }
			printf '%s->%s  %5s  %8s  %4s  %7s  %8s  %12s\n' "$s" "$r" "$sent" "$recv" \
				"$lost" "$fwd" "$bwd" "$und"
			check "$s->$r: every test packet sent" '[ "$sent" = "$MESH_COUNT" ]'
			case $s$r in
			ab)
				check "a->b: forward loss within [$lo, $hi] (${MESH_EXPECT_PERCENT} %)" \
					'[ "$fwd" != null ] && [ $((fwd + und)) -ge "$lo" ] &&
					 [ $((fwd + und)) -le "$hi" ]'
				check "a->b: no backward loss (b->a drops nothing)" '[ "$bwd" = 0 ]'
				check "a->b: lost is exactly what nftables dropped" \
					'[ "$lost" = "$ab_test" ] && [ "$fwd" -le "$ab_test" ]' ;;
			ba)
				check "b->a: loss within [$lo, $hi] (its replies, on a->b)" \
					'[ "$lost" -ge "$lo" ] && [ "$lost" -le "$hi" ]'
				check "b->a: lost is exactly the replies nftables dropped" \
					'[ "$lost" = "$ab_reply" ]' ;;
			cd | dc)
				check "$s->$r: 100 % lost (c->d drops all)" \
					'[ "$lost" = "$MESH_COUNT" ] && [ "$recv" = 0 ]' ;;
			*)
				check "$s->$r: no loss" '[ "$lost" = 0 ] && [ "$recv" = "$MESH_COUNT" ]' ;;
			esac
		done
	done
	read -r sent recv lost < <(summary "$tmp/s6-a-b.json" sent received lost)
	check "a->b over IPv6 ($sent sent, $lost lost): no loss" \
		'[ "$sent" = 100 ] && [ "$lost" = 0 ]'
	check "c->d: nftables dropped c's test packets to d and c's replies to d's" \
		'[ "$cd_all" = $((2 * MESH_COUNT)) ]'

	# What each reflector counted, as Prometheus scraped it: the test packets that reached
	# it. b misses those a's rule dropped (and has the 100 IPv6 ones); d misses all of c's;
	# c counts d's, whose replies were lost on the way back.
	local n=$MESH_COUNT want
	want="$(ip4 a) $((3 * n))
$(ip4 b) $((3 * n - ab_test + 100))
$(ip4 c) $((3 * n))
$(ip4 d) $((2 * n))"
	wait_for 10 promql_is 'sum by (instance) (echod_stamp_reflected_total)' "$want"
	check "Prometheus: echod_stamp_reflected_total per instance is what reached it" \
		'[ "$(promql "sum by (instance) (echod_stamp_reflected_total)")" = "$want" ]'
	echo "reflected per instance (PromQL):"
	promql 'sum by (instance) (echod_stamp_reflected_total)' | sed 's/^/  /'
}

# The probe engine's assertions go here once echod runs probes (issue 25, "Mesh end to
# end"): with the mesh drop-in in every node's conf.d/, a function assert_probe_matrix
# reads echod_probe_lost_total{direction} / echod_probe_sent_total per (instance, target)
# in PromQL, with the same bounds as assert_stamp_matrix, and after the stop below,
# echod_probe_up{target="10.99.0.4"} == 0 within three scrape intervals. Not written yet:
# the metrics do not exist, and a test of nothing would pass. The probes reach the same
# reflectors as the sessions: point them at a stamp listener of their own (another port),
# or the reflected counts above must add what the probes sent.

# first_zero EXPR T0: seconds from T0 to the first sample of EXPR at 0 (Prometheus' scrape
# time), from the last 20 s of samples; nothing when there is none.
first_zero() {
	in_ns br curl -sf -G --max-time 5 --data-urlencode "query=$1[20s]" \
		"http://$prom/api/v1/query" | python3 -c '
import json, sys
t0 = float(sys.argv[1])
r = json.load(sys.stdin)["data"]["result"]
zeros = [float(t) for s in r for t, v in s["values"] if float(t) >= t0 and v == "0"]
if zeros:
    print(f"{min(zeros) - t0:.2f}")' "$2"
}

assert_stop() {
	local t0 t1 seen scraped others rc d
	d=$(ip4 d)
	others="$(ip4 a) 1
$(ip4 b) 1
$(ip4 c) 1"
	t0=$(now)
	kill -TERM "${pid[d]}"
	if wait_for 10 promql_is "up{instance=\"$d\"}" "$d 0"; then
		t1=$(now)
		seen=$(python3 -c "print(f'{$t1 - $t0:.2f}')")
		scraped=$(first_zero "up{instance=\"$d\"}" "$t0")
		echo "d stopped: its first up == 0 sample scraped ${scraped:-?} s after," \
			"read back after $seen s"
		# The scrape's own time: how fast our polling reads it back does not count.
		check "d's up == 0 within three scrape intervals (3 s)" \
			'[ -n "$scraped" ] && python3 -c "import sys; sys.exit(not $scraped <= 3.0)"'
	else
		check "d's up == 0 within 10 s" false
	fi
	wait "${pid[d]}"
	rc=$?
	unset 'pid[d]'
	check "d's echod exited 0 on SIGTERM" '[ "$rc" -eq 0 ]'
	check "the other three stay up" '[ "$(promql "up{instance!=\"$d\"}")" = "$others" ]'
}

phase "network: namespaces $prefix-{a,b,c,d,br}, temp $tmp"
build_network
n=1
for x in $nodes; do write_config "$x" $n; n=$((n + 1)); done
check "echod -t accepts each node's configuration" configs_ok
phase "echods"
for x in $nodes; do start_echod "$x"; done
phase "prometheus"
start_prometheus
t0=$(now)
wait_for 20 promql_is 'up' "$(all_instances 1)"
up_after=$(python3 -c "print(f'{$(now) - $t0:.1f}')")
# The instances are the bare addresses: the shipped job's relabelling took the port off.
check "all four echods up == 1 in Prometheus (after $up_after s)" \
	'[ "$(promql up)" = "$(all_instances 1)" ]'
check "echod_build_info for each instance" \
	'[ "$(promql "count by (instance) (echod_build_info)")" = "$(all_instances 1)" ]'
check "the shipped rules loaded" \
	'in_ns br curl -sf "http://$prom/api/v1/rules" | grep -q echod-probe-recording'
inject_loss
phase "STAMP: $MESH_COUNT test packets per session, every node to every other, at 100/s"
run_sessions
assert_stamp_matrix
phase "stopping d"
assert_stop
phase "done"
if [ $fail -ne 0 ]; then
	for x in $nodes; do echo "--- echod $x stderr"; cat "$tmp/$x/stderr"; done
	echo "--- prometheus stderr"; cat "$tmp/prom/stderr"
	echo "mesh.sh: FAILED"
	exit 1
fi
echo "mesh.sh: all passed"
