#!/bin/sh
# SPDX-License-Identifier: MIT
# The journal fields echod(8) lists are the ones echod sends: ECHOD_PROTOCOL (stamp among
# them) and ECHOD_PORT on listener entries, a field per counter (STAMP's too) on SIGUSR1.
# journald is stood in for by socat on /run/systemd/journal/socket, in a private mount
# namespace so that the host's journal is never touched.
set -u

: "${ECHOD:=src/echod}"
if [ "$(id -u)" -ne 0 ] || ! command -v unshare >/dev/null || ! command -v socat >/dev/null; then
	echo "SKIP: needs root, unshare and socat (a private /run/systemd for a stand-in journal)"
	exit 77
fi
tmp=$(mktemp -d) || exit 99
trap 'rm -rf "$tmp"' EXIT
port=$((20000 + $$ % 20000))
cat >"$tmp/echod.conf" <<CONF
listeners = (
  { protocol = "stamp"; port = $port; address = "127.0.0.1"; },
  { protocol = "unix"; path = "$tmp/echo.sock"; }
);
control_socket = "";
CONF
cat >"$tmp/inner.sh" <<'INNER'
tmp=$1 echod=$2
mount -t tmpfs tmpfs /run/systemd 2>/dev/null || exit 77
mkdir /run/systemd/journal
socat -u UNIX-RECV:/run/systemd/journal/socket CREATE:"$tmp/journal" &
socat=$!
wait_for() {
	for _ in $(seq 100); do
		grep -aq "$1" "$tmp/journal" 2>/dev/null && return 0
		sleep 0.05
	done
	echo "FAIL: no '$1' in the journal"; return 1
}
for _ in $(seq 100); do [ -S /run/systemd/journal/socket ] && break; sleep 0.05; done
# echod drops root once its listeners are open: journald's socket is writable by all.
chmod 666 /run/systemd/journal/socket
"$echod" -c "$tmp/echod.conf" --log-target=journal 2>"$tmp/stderr" &
echod=$!
ok=0
wait_for "^MESSAGE=echod .* started" && kill -USR1 "$echod" && wait_for "^MESSAGE=statistics" ||
	ok=1
kill "$echod" "$socat" 2>/dev/null
wait "$echod"
exit $ok
INNER
unshare -m --propagation private sh "$tmp/inner.sh" "$tmp" "$ECHOD"
rc=$?
[ "$rc" -eq 77 ] && { echo "SKIP: cannot mount in a private namespace"; exit 77; }
[ "$rc" -eq 0 ] || { cat "$tmp/stderr" "$tmp/journal" 2>/dev/null | tr '\0' ' '; exit 1; }
failed=0
# An entry is one datagram of KEY=VALUE lines; socat writes them one after the other.
entry() {
	awk -v m="$1" '/^MESSAGE=/ { on = index($0, m) > 0 } on' "$tmp/journal"
}
for want in "listening on stamp 127.0.0.1:$port|ECHOD_PROTOCOL=stamp" \
	"listening on stamp 127.0.0.1:$port|ECHOD_PORT=$port" \
	"listening on unix $tmp/echo.sock|ECHOD_PROTOCOL=unix" \
	"statistics|ECHOD_STAMP_REFLECTED=0" \
	"statistics|ECHOD_CONNECTIONS_ACCEPTED=0"; do
	msg=${want%%|*} field=${want#*|}
	entry "$msg" | grep -qx "$field" || { echo "FAIL: '$msg' entry lacks $field"; failed=1; }
done
entry "listening on unix" | grep -q '^ECHOD_PORT=' && { echo "FAIL: a unix entry has a port"; failed=1; }
[ "$failed" -eq 0 ] || entry "" | tr '\0' ' '
exit $failed
