# shellcheck shell=sh
# SPDX-License-Identifier: MIT
# Helpers the as-installed tests source: TAP-like lines on stdout, failures counted.

failed=0
passed=0
# echod and echodctl are in /usr/sbin, which a normal user's PATH may lack.
PATH=$PATH:/usr/sbin:/sbin
export PATH

ok() { passed=$((passed + 1)); printf 'ok - %s\n' "$1"; }
not_ok() { failed=$((failed + 1)); printf 'not ok - %s\n' "$1"; }

# check DESCRIPTION COMMAND...: the command's output is shown only when it fails.
check() {
	_what=$1
	shift
	if _out=$("$@" 2>&1); then
		ok "$_what"
	else
		not_ok "$_what"
		printf '%s\n' "$_out" | sed 's/^/#   /'
	fi
}

# finish: exit status 1 when a check failed or none ran.
finish() {
	printf '# %d passed, %d failed\n' "$passed" "$failed"
	[ "$failed" -eq 0 ] && [ "$passed" -gt 0 ]
}

# wait_for SECONDS COMMAND...: poll every 0.1 s until the command succeeds; a bound, not a timing.
wait_for() {
	_n=$(($1 * 10))
	shift
	while [ "$_n" -gt 0 ]; do
		"$@" >/dev/null 2>&1 && return 0
		sleep 0.1
		_n=$((_n - 1))
	done
	return 1
}

# alive PID: the process exists and is not a zombie (kill -0 succeeds on an unreaped child).
alive() { [ -r "/proc/$1/status" ] && ! grep -q '^State:[[:space:]]*Z' "/proc/$1/status"; }
not_alive() { ! alive "$1"; }
