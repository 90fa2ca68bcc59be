#!/bin/sh
# SPDX-License-Identifier: MIT
# Every program, run by its full path, answers a usage error as coreutils do (issue 24):
# one line that says what is wrong, prefixed with the program's name (not its path), then
# "Try 'PROG --help' for more information.", exit 64, nothing on stdout. The help itself
# only on --help (stdout, exit 0); --version is one line on stdout, exit 0.
set -u

: "${ECHOD:=src/echod}" "${ECHODCTL:=src/echodctl}" "${ECHO_CLIENT:=tools/echo-client}"
: "${ECHOD_BENCH:=tools/echod-bench}" "${ECHOD_SOCKET_GENERATOR:=src/echod-socket-generator}"
tmp=$(mktemp -d) || exit 99
trap 'rm -rf "$tmp"' EXIT
failed=0

fail() {
	echo "FAIL: $*"
	failed=1
}

# usage_error PROG-PATH WHAT-LINE-1-SAYS ARGS...: the two lines, exit 64.
usage_error() {
	path=$1 says=$2
	shift 2
	name=${path##*/}
	(cd "$tmp" && "$path" "$@") >"$tmp/out" 2>"$tmp/err" </dev/null
	rc=$?
	first=$(sed -n 1p "$tmp/err")
	[ "$rc" -eq 64 ] || fail "$name $*: exit $rc, want 64"
	[ ! -s "$tmp/out" ] || fail "$name $*: wrote to stdout: $(cat "$tmp/out")"
	[ "$(wc -l <"$tmp/err")" -eq 2 ] || fail "$name $*: stderr is not two lines: $(cat "$tmp/err")"
	case $first in
	"$name: "*"$says"*) ;;
	*) fail "$name $*: first line '$first', want '$name: ...$says...'" ;;
	esac
	[ "$(sed -n 2p "$tmp/err")" = "Try '$name --help' for more information." ] ||
		fail "$name $*: second line '$(sed -n 2p "$tmp/err")'"
}

# help_and_version PROG-PATH: --help and -h on stdout, --version and -V one line.
help_and_version() {
	path=$1
	name=${path##*/}
	for opt in --help -h; do
		"$path" "$opt" >"$tmp/out" 2>"$tmp/err" </dev/null
		rc=$?
		[ "$rc" -eq 0 ] || fail "$name $opt: exit $rc"
		[ ! -s "$tmp/err" ] || fail "$name $opt: wrote to stderr: $(cat "$tmp/err")"
		grep -q "^usage: $name " "$tmp/out" || fail "$name $opt: no 'usage: $name' line"
	done
	for opt in --version -V; do
		"$path" "$opt" >"$tmp/out" 2>"$tmp/err" </dev/null
		rc=$?
		[ "$rc" -eq 0 ] || fail "$name $opt: exit $rc"
		[ "$(wc -l <"$tmp/out")" -eq 1 ] || fail "$name $opt: not one line: $(cat "$tmp/out")"
		grep -q "^$name.* [0-9][0-9.]*$" "$tmp/out" || fail "$name $opt: $(cat "$tmp/out")"
	done
}

for prog in "$ECHOD" "$ECHODCTL" "$ECHO_CLIENT" "$ECHOD_BENCH" "$ECHOD_SOCKET_GENERATOR"; do
	case $prog in
	/*) ;;
	*) prog=$PWD/$prog ;;
	esac
	usage_error "$prog" "unrecognized option '--no-such-option'" --no-such-option
	usage_error "$prog" "invalid option -- 'Z'" -Z
	help_and_version "$prog"
done

# What each program checks beyond getopt: still one line, then the Try line.
usage_error "$ECHOD" "unexpected argument 'extra'" extra
usage_error "$ECHOD" "--log-level: 'loud'" --log-level=loud
usage_error "$ECHOD" "option requires an argument -- 'c'" -c
usage_error "$ECHODCTL" "missing command"
usage_error "$ECHODCTL" "unknown command 'restart'" restart
usage_error "$ECHODCTL" "--timeout: '0'" -T 0 status
usage_error "$ECHODCTL" "unexpected argument 'now'" reload now
usage_error "$ECHO_CLIENT" "missing HOST"
usage_error "$ECHO_CLIENT" "several HOSTs take -c -i" -m x a b
usage_error "$ECHO_CLIENT" "invalid value for -c: '0'" -c 0 localhost
usage_error "$ECHO_CLIENT" "--udp does not apply" -u unix:/x
usage_error "$ECHOD_BENCH" "--port is needed" -m tcp-pingpong
usage_error "$ECHOD_BENCH" "invalid value for --mode: 'bogus'" -p 7 --mode=bogus
usage_error "$ECHOD_BENCH" "unexpected argument 'x'" -p 7 x
usage_error "$ECHOD_BENCH" "not a numeric address" -p 7 -H localhost
usage_error "$ECHOD_SOCKET_GENERATOR" "missing NORMAL-DIR"
usage_error "$ECHOD_SOCKET_GENERATOR" "not an absolute path: 'out'" out
exit $failed
