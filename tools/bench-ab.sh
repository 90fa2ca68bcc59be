#!/bin/bash
# SPDX-License-Identifier: MIT
# A/B of two echod builds on the UDP data path, side by side in one run: both run at once
# (workers = 1, CPU 0), echod-bench on CPU 1 measures each in turn, udp-pingpong and
# stamp-pingpong c=50 s=64, the order swapped every round so that drift hits both alike.
# Prints each round's server CPU per datagram and the per-round new/old ratios.
#   OLD_ECHOD=path NEW_ECHOD=path [ROUNDS=9] [BENCH=tools/echod-bench] tools/bench-ab.sh
# Loopback only; every run is bounded (2.5 s each).
set -u
ROUNDS=${ROUNDS:-9}
top=$(cd "$(dirname "$0")/.." && pwd)
BENCH=${BENCH:-$top/tools/echod-bench}
: "${OLD_ECHOD:?set OLD_ECHOD to the echod built from the commit before}"
NEW_ECHOD=${NEW_ECHOD:-$top/src/echod}
tmp=$(mktemp -d "${TMPDIR:-/tmp}/echod-ab.XXXXXX") || exit 1
trap 'kill ${pids[old]:-} ${pids[new]:-} 2>/dev/null; rm -rf "$tmp"' EXIT
declare -A bin=( [old]=$OLD_ECHOD [new]=$NEW_ECHOD )
declare -A base=( [old]=21000 [new]=22000 )
declare -A pids
for v in old new; do
	b=${base[$v]}
	cat > $tmp/$v.conf <<EOC
workers = 1;
exempt = [ "127.0.0.0/8", "::1/128" ];
control_socket = "$tmp/$v.ctl";
listeners = ( { protocol = "udp"; address = "127.0.0.1"; port = $b; },
	{ protocol = "stamp"; address = "127.0.0.1"; port = $((b+1)); } );
EOC
	setsid taskset -c 0 ${bin[$v]} -c $tmp/$v.conf --log-target=stderr >$tmp/$v.log 2>&1 &
	pids[$v]=$!
done
sleep 1
for r in $(seq 1 "$ROUNDS"); do
	order="old new"; [ $((r % 2)) -eq 0 ] && order="new old"
	for v in $order; do
		for m in udp stamp; do
			p=${base[$v]}; [ $m = stamp ] && p=$((p+1))
			taskset -c 1 $BENCH --json -m $m-pingpong -c 50 -s 64 -d 2 --warmup 0.5 \
				-p $p --pid ${pids[$v]} > $tmp/$v-$m-$r.json 2>/dev/null
			printf '%s %s %s %s\n' "$r" "$v" "$m" "$(grep -o '"server_cpu_us_per_op":[0-9.]*' $tmp/$v-$m-$r.json | cut -d: -f2)"
		done
	done
done | tee $tmp/results.txt
awk '{ a[$2" "$3]=a[$2" "$3]" "$4 } END { for (k in a) print k ":" a[k] }' $tmp/results.txt
# per-round new/old and their median, per mode
for m in udp stamp; do
	awk -v m=$m '$3 == m { v[$1" "$2] = $4; r[$1] = 1 } END { for (k in r) print v[k" new"] / v[k" old"] }' \
		$tmp/results.txt | sort -n | awk -v m=$m '{ x[NR] = $1; s = s sprintf(" %.2f", $1) }
		END { printf "%s new/old per round (sorted):%s, median %.2f\n", m, s, x[int((NR + 1) / 2)] }'
done
