#!/bin/sh
# SPDX-License-Identifier: MIT
# The README reads in the order a user works (issue 24): what it is, install and run,
# configure, operate, measure, then develop and test; and it keeps its two contract
# commands: the Quick start's one line that starts echod on the shipped configuration,
# and the test command .ci/run runs.
set -u

srcdir=${srcdir:-.}
readme=$srcdir/README.md
failed=0
fail() {
	echo "FAIL: $*"
	failed=1
}

want="Quick start|Command line|Configuration reference|STAMP reflector|Debian package and systemd|Statistics|Prometheus|echo-client|Fleet|Performance|Tests|Layout"
got=$(sed -n 's/^## \([^(]*[^ (]\).*/\1/p' "$readme" | sed 's/ *$//' | tr '\n' '|' | sed 's/|$//')
[ "$got" = "$want" ] || fail "sections in this order: $want; the README has: $got"

grep -qx 'sh tools/deps.sh build && autoreconf -fi && ./configure && make && ./src/echod -c etc/echod.conf' \
	"$readme" || fail "the Quick start's command that starts echod is gone or changed"
grep -qx 'sh tools/check-all.sh' "$readme" || fail "no 'sh tools/check-all.sh' command line"
grep -q '^exec sh tools/check-all.sh$' "$srcdir/.ci/run" || fail ".ci/run does not run the README's test command"
# Release notes belong in debian/changelog, not in a first release's README.
grep -n '\*\*Changed:\*\*' "$readme" && fail "a 'Changed:' note in the README"
exit $failed
