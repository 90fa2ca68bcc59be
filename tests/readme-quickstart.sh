#!/bin/sh
# SPDX-License-Identifier: MIT
# The README's quick start as a new user runs it (issue 15): every program its try-it commands
# run is one this make built, one `sh tools/deps.sh build` installs, or an Essential one; and
# each command, pointed at this build's echod, gets its echo.
set -eu

top=${TEST_DATA:?run from make check}/../..
readme=$top/README.md
build_pkgs=$(sed -n 's/^build="\(.*\)"$/\1/p' "$top/tools/deps.sh")
tmp=$(mktemp -d)
pid=
trap '[ -z "$pid" ] || kill "$pid" 2>/dev/null || :; rm -rf "$tmp"' EXIT

# The prose of the Quick start section (fenced blocks left out), its code spans with a host.
sed -n '/^## Quick start/,/^## [^Q]/p' "$readme" |
	awk '/^```/ { fenced = !fenced; next } !fenced' | tr '\n' ' ' |
	grep -o '`[^`]*localhost[^`]*`' | tr -d '`' >"$tmp/commands" || :
if [ ! -s "$tmp/commands" ]; then
	echo "FAIL: no try-it command (a code span with localhost) in the Quick start"
	exit 1
fi

# Where a command on PATH comes from: ok when Essential or installed by deps.sh build.
provided() {
	path=$(command -v "$1") || return 1
	case $path in /*) ;; *) return 0 ;; esac	# a shell builtin
	real=$(readlink -f "$path")
	pkg=$(dpkg -S "$real" 2>/dev/null || dpkg -S "${real#/usr}" 2>/dev/null) || return 1
	pkg=${pkg%%:*}
	[ "$(dpkg-query -W -f '${Essential}' "$pkg")" = yes ] && return 0
	for p in $build_pkgs; do
		[ "$p" = "$pkg" ] && return 0
	done
	echo "FAIL: '$1' comes from $pkg, which sh tools/deps.sh build does not install"
	return 1
}

fail=0
while IFS= read -r cmd; do
	for prog in $(printf '%s\n' "$cmd" | tr '|' '\n' | awk '{ print $1 }'); do
		case $prog in
		./*) [ -x "./$prog" ] || { echo "FAIL: '$cmd': make built no $prog"; fail=1; } ;;
		*) provided "$prog" || { echo "FAIL: '$cmd' needs $prog"; fail=1; } ;;
		esac
	done
done <"$tmp/commands"
[ "$fail" -eq 0 ] || exit 1

# Run each against this build's echod on a free port instead of 7, as root or not.
chmod 0777 "$tmp"
for attempt in 1 2 3; do
	port=$((20000 + ($$ * 7 + attempt * 977) % 40000))
	printf 'listeners = ( { protocol = "tcp"; port = %d; address = "127.0.0.1"; },
	    { protocol = "udp"; port = %d; address = "127.0.0.1"; } );\n' "$port" "$port" \
	    >"$tmp/echod.conf"
	RUNTIME_DIRECTORY=$tmp "$ECHOD" -c "$tmp/echod.conf" 2>"$tmp/echod.err" &
	pid=$!
	for _ in $(seq 50); do
		"$ECHO_CLIENT" -q -W 1 -p "$port" 127.0.0.1 2>/dev/null && break
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	kill -0 "$pid" 2>/dev/null && break
	pid=
done
[ -n "$pid" ] || { echo "FAIL: echod did not start:"; cat "$tmp/echod.err"; exit 1; }
while IFS= read -r cmd; do
	run=$(printf '%s\n' "$cmd" |
	    sed "s| -p [0-9][0-9]*||g; s|\./tools/echo-client|'$ECHO_CLIENT' -p $port|g")
	out=$(sh -c "$run" 2>&1) || { echo "FAIL: '$cmd': $out"; fail=1; continue; }
	case $out in
	hello*) echo "ok: $cmd" ;;
	*) echo "FAIL: '$cmd' printed: $out"; fail=1 ;;
	esac
done <"$tmp/commands"
exit "$fail"
