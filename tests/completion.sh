#!/bin/bash
# SPDX-License-Identifier: MIT
# The bash completions in completions/ (Debian's bash-completion conventions): each parses
# (bash -n), registers for its program, and completes its subcommands, option values and
# every long option the program's --help lists, as bash would call it (COMP_WORDS,
# COMP_CWORD, COMP_LINE, COMP_POINT; words split at COMP_WORDBREAKS as bash splits them).
set -u

srcdir=${srcdir:-.}
: "${ECHOD:=src/echod}" "${ECHODCTL:=src/echodctl}" "${ECHO_CLIENT:=tools/echo-client}"
lib=/usr/share/bash-completion/bash_completion
if [ ! -r "$lib" ]; then
	echo "SKIP: $lib missing (Debian: bash-completion; tools/deps.sh)"
	exit 77
fi
failed=0
fail() {
	echo "FAIL: $*"
	failed=1
}

for f in echod echodctl echo-client; do
	bash -n "$srcdir/completions/$f" || fail "bash -n completions/$f"
done

# shellcheck source=/dev/null
. "$lib"
for f in echod echodctl echo-client; do
	# shellcheck source=/dev/null
	. "$srcdir/completions/$f"
	complete -p "$f" >/dev/null 2>&1 || fail "completions/$f registers no completion for $f"
done

tmp=$(mktemp -d) || exit 99
trap 'rm -rf "$tmp"' EXIT
mkdir "$tmp/sub"
touch "$tmp/a.conf" "$tmp/b.txt" "$tmp/echo.sock"
cd "$tmp" || exit 99

# comp LINE: what completing at the end of LINE offers, sorted, one line.
comp() {
	local line=$1 prog func
	prog=${line%% *}
	func=$(complete -p "$prog" | sed -n 's/.* -F \([^ ]*\) .*/\1/p')
	COMP_LINE=$line
	COMP_POINT=${#line}
	# bash splits the line at blanks and at the COMP_WORDBREAKS characters '=' and ':'.
	local rest=$line word=
	COMP_WORDS=()
	while [ -n "$rest" ]; do
		case ${rest:0:1} in
		' ') [ -n "$word" ] && COMP_WORDS+=("$word"); word= ;;
		'=' | ':') [ -n "$word" ] && COMP_WORDS+=("$word"); COMP_WORDS+=("${rest:0:1}"); word= ;;
		*) word+=${rest:0:1} ;;
		esac
		rest=${rest:1}
	done
	COMP_WORDS+=("$word")
	COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
	COMPREPLY=()
	"$func" "$prog" "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD - 1]}"
	printf '%s\n' "${COMPREPLY[@]}" | sort | tr '\n' ' ' | sed 's/ $//'
}

# expect LINE WANT: completing LINE offers exactly WANT (sorted, blank-separated).
expect() {
	local got
	got=$(comp "$1")
	[ "$got" = "$2" ] || fail "'$1': got '$got', want '$2'"
}

# offers LINE WORD...: completing LINE offers at least each WORD.
offers() {
	local line=$1 got w
	shift
	got=" $(comp "$line") "
	for w in "$@"; do
		case $got in
		*" $w "*) ;;
		*) fail "'$line' does not offer '$w' (got:$got)" ;;
		esac
	done
}

# lacks LINE WORD...: completing LINE offers none of the WORDs.
lacks() {
	local line=$1 got w
	shift
	got=" $(comp "$line") "
	for w in "$@"; do
		case $got in
		*" $w "*) fail "'$line' offers '$w'" ;;
		esac
	done
}

# Every long option the program's --help lists is offered after '-' (no drift); an
# option written "--log-level=" counts as --log-level.
help_options() {
	local prog=$1 path=$2 got o
	got=" $(comp "$prog -" | sed 's/=//g') "
	for o in $("$path" --help | grep -o -- '--[a-z][a-z-]*' | sort -u); do
		case $got in
		*" $o "*) ;;
		*) fail "'$prog -' does not offer $o, which $prog --help lists" ;;
		esac
	done
}

# echodctl: its commands, its options, and files for --socket.
expect "echodctl " "metrics probes reload stats status"
expect "echodctl st" "stats status"
expect "echodctl -T 5 " "metrics probes reload stats status"
expect "echodctl --socket /run/echod/control " "metrics probes reload stats status"
expect "echodctl reload " ""
offers "echodctl -" -s --socket -T --timeout -j --json -V --version -h --help
offers "echodctl stats -" --json
offers "echodctl probes -" --json
lacks "echodctl reload -" --json -j
expect "echodctl -s echo" "echo.sock"
expect "echodctl --timeout " ""
help_options echodctl "$ECHODCTL"

# echod: options, the values of --log-target and --log-level, .conf files for -c.
offers "echod -" -c --config -t --test-config --log-target= --log-level= -V --version -h --help
expect "echod --log-level=" "debug err info notice warning"
expect "echod --log-level " "debug err info notice warning"
expect "echod --log-target=j" "journal"
expect "echod --log-target " "auto journal stderr"
offers "echod -c " a.conf sub
lacks "echod -c " b.txt
expect "echod --config a" "a.conf"
help_options echod "$ECHOD"

# echo-client: options, option values, unix: paths.
expect "echo-client --st" "--stamp --stamp-auth-key --stamp-timestamp --stream"
expect "echo-client -M " "do dont probe want"
expect "echo-client --stamp-timestamp " "ntp ptp"
expect "echo-client -Q af4" "af41 af42 af43"
expect "echo-client -c " ""
# bash replaces the word after the ':' only: "unix:ec" becomes "unix:echo.sock".
expect "echo-client unix:ec" "echo.sock"
offers "echo-client --stamp-auth-key " a.conf b.txt
offers "echo-client -p ech" echo
help_options echo-client "$ECHO_CLIENT"

exit $failed
