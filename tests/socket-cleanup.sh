#!/bin/sh
# SPDX-License-Identifier: MIT
# Issue 24 item 10: started as root, echod becomes nobody, yet removes at SIGTERM
# the socket files it made where nobody may: the control socket in the directory
# echod made for it, a Unix listener in a sticky directory. One in a directory
# only root may write is left behind with a warning (at start and at exit), and
# echodctl then says that no echod listens there.
set -u

: "${ECHOD:=src/echod}" "${ECHODCTL:=src/echodctl}"
if [ "$(id -u)" -ne 0 ] || ! id nobody >/dev/null 2>&1; then
	echo "SKIP: needs root and a user nobody (echod switches to it)"
	exit 77
fi
tmp=$(mktemp -d) || exit 99
trap 'kill "$pid" 2>/dev/null; rm -rf "$tmp"' EXIT
pid=
# nobody must reach the files at all: the test directory is searchable by all.
chmod 755 "$tmp"
mkdir -m 755 "$tmp/run" "$tmp/locked"
mkdir -m 1777 "$tmp/sticky"
cat >"$tmp/echod.conf" <<CONF
user = "nobody";
listeners = (
  { protocol = "unix"; path = "$tmp/sticky/echo.sock"; },
  { protocol = "unix"; path = "$tmp/locked/echo.sock"; }
);
control_socket = "$tmp/run/echod/control";
CONF
fail=0
check() {
	if eval "$2"; then echo "ok: $1"; else echo "FAIL: $1"; fail=1; fi
}

"$ECHOD" -c "$tmp/echod.conf" --log-target=stderr 2>"$tmp/stderr" &
pid=$!
for _ in $(seq 100); do
	[ -S "$tmp/run/echod/control" ] && grep -q "started" "$tmp/stderr" && break
	sleep 0.05
done
check "the control socket's directory, made by echod, is nobody's" \
	'[ "$(stat -c %U "$tmp/run/echod")" = nobody ]'
check "echodctl reaches echod" '"$ECHODCTL" -s "$tmp/run/echod/control" status >/dev/null'
check "a warning at start for the file nobody cannot remove" \
	'grep -q "$tmp/locked/echo.sock: once nobody, echod cannot remove it" "$tmp/stderr"'
check "no such warning for the others" \
	'! grep -q "sticky/echo.sock: once\|control: once" "$tmp/stderr"'
kill -TERM "$pid"
wait "$pid"
status=$?
pid=
check "echod exits 0 on SIGTERM" '[ "$status" -eq 0 ]'
check "the control socket is removed" '[ ! -e "$tmp/run/echod/control" ]'
check "the listener in the sticky directory is removed" '[ ! -e "$tmp/sticky/echo.sock" ]'
check "the listener in the root-only directory is left" '[ -S "$tmp/locked/echo.sock" ]'
check "and said at exit" 'grep -q "cannot remove $tmp/locked/echo.sock" "$tmp/stderr"'

# A control socket left behind: echodctl says what it is.
"$ECHOD" -c "$tmp/echod.conf" --log-target=stderr 2>"$tmp/stderr2" &
pid=$!
for _ in $(seq 100); do grep -q "started" "$tmp/stderr2" && break; sleep 0.05; done
check "the next start replaces the file left behind" \
	'! grep -qi "cannot open\|in use" "$tmp/stderr2"'
kill -KILL "$pid"
wait "$pid" 2>/dev/null
pid=
"$ECHODCTL" -s "$tmp/run/echod/control" status 2>"$tmp/ctl" >/dev/null
status=$?
check "echodctl on a socket with no echod: exit 69" '[ "$status" -eq 69 ]'
check "and it says the file is left from an echod that stopped" \
	'grep -q "no echod listens there: the file is left from one that stopped" "$tmp/ctl"'
[ $fail -eq 0 ] || { echo "--- echod's stderr"; cat "$tmp/stderr"; }
exit $fail
