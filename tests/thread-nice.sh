#!/bin/sh
# SPDX-License-Identifier: MIT
# Issue 23: the echo workers are scheduled ahead of the control thread. echod(8)
# THREADS: once the workers run, the control thread (the main one, whose task id
# is the pid) is 5 nicer than the workers, which keep the nice echod started with.
set -u

: "${ECHOD:=src/echod}"
tmp=$(mktemp -d) || exit 99
pid=
trap '[ -n "$pid" ] && kill "$pid" 2>/dev/null; rm -rf "$tmp"' EXIT
cat >"$tmp/echod.conf" <<CONF
listeners = ( { protocol = "unix"; path = "$tmp/echo.sock"; } );
workers = 3;
control_socket = "";
CONF
base=$(nice)
want=$((base + 5 > 19 ? 19 : base + 5))
"$ECHOD" -c "$tmp/echod.conf" --log-target=stderr 2>"$tmp/err" &
pid=$!
for _ in $(seq 100); do grep -q "started" "$tmp/err" && break; sleep 0.05; done
main=-1 same=0 other=0
for task in /proc/"$pid"/task/*; do
	# Field 19 of stat is the nice value; the comm field before it has no spaces here.
	n=$(awk '{ print $19 }' "$task/stat")
	if [ "${task##*/}" = "$pid" ]; then
		main=$n
	elif [ "$n" = "$base" ]; then
		same=$((same + 1))
	else
		other=$((other + 1))
	fi
done
echo "started at nice $base: control thread nice $main (want $want); $same threads at" \
	"$base (want the 3 workers), $other others"
[ "$main" = "$want" ] && [ "$same" = 3 ] && [ "$other" = 0 ] || { cat "$tmp/err"; exit 1; }
