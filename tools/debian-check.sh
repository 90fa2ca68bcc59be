#!/bin/sh
# SPDX-License-Identifier: MIT
# Debian's own checks on the package, as root on Debian 12 (tools/deps.sh all): build the
# source and binary packages (DEB_BUILD_OPTIONS=nocheck) in a temporary copy of the tree,
# lintian --pedantic on them (an error or warning fails; info, pedantic and experimental
# tags are listed), then the as-installed tests of debian/tests with autopkgtest's null
# runner on this machine (needs-root tests as root, the others as nobody). autopkgtest
# installs echod here; it is purged afterwards unless it was installed before.
# Usage: tools/debian-check.sh [SRCDIR]   (default: the tree this script is in)
# Environment: ECHOD_DEBIAN_CHECK_KEEP=1 keeps the temporary directory (its path is printed).
set -eu

here=$(cd "$(dirname "$0")" && pwd)
src=$(cd "${1:-$here/..}" && pwd)
passed=0
failed=0
t0=$(date +%s)

say() { printf '\n=== %s\n' "$*"; }
pass() { passed=$((passed + 1)); printf 'PASS: %s\n' "$1"; }
fail() { failed=$((failed + 1)); printf 'FAIL: %s\n' "$1"; }

summary() {
	printf '# %s s\n' "$(($(date +%s) - t0))"
	printf '%d passed, %d failed\n' "$passed" "$failed"
	[ "$failed" -eq 0 ] && [ "$passed" -gt 0 ]
}

if [ "$(id -u)" -ne 0 ]; then
	echo "debian-check: run as root (autopkgtest installs the package)" >&2
	exit 77
fi
for tool in dpkg-buildpackage lintian autopkgtest; do
	if ! command -v "$tool" >/dev/null; then
		echo "debian-check: $tool missing (sh tools/deps.sh all)" >&2
		exit 77
	fi
done

work=$(mktemp -d "${TMPDIR:-/tmp}/echod-debian-check.XXXXXX")
was_installed=$(dpkg-query -W -f '${Status}' echod 2>/dev/null | grep -c 'install ok installed' ||
	true)
cleanup() {
	if [ "$was_installed" = 0 ] && dpkg-query -W -f '${Status}' echod 2>/dev/null |
		grep -q 'ok installed'; then
		DEBIAN_FRONTEND=noninteractive apt-get purge -y -q echod >"$work/purge.log" 2>&1 ||
			cat "$work/purge.log"
	fi
	if [ "${ECHOD_DEBIAN_CHECK_KEEP:-0}" = 1 ]; then
		echo "debian-check: kept $work"
	else
		rm -rf "$work"
	fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM
# autopkgtest runs the tests that need no root as nobody, from copies under $work.
chmod 0755 "$work"

say "copy of $src (the working tree, without build outputs)"
mkdir "$work/echod"
if git -C "$src" rev-parse --is-inside-work-tree >/dev/null 2>&1; then
	# A tracked file deleted in the working tree is left out, not an error.
	(cd "$src" && git ls-files -z --cached --others --exclude-standard |
		tar --null --ignore-failed-read -T - -cf - 2>/dev/null) | tar -xf - -C "$work/echod"
else
	tar -C "$src" --exclude=.git -cf - . | tar -xf - -C "$work/echod"
fi
# The tests and autopkgtest read the pristine tree; the build writes into its own copy.
cp -a "$work/echod" "$work/tree"

say "dpkg-buildpackage -us -uc (source and binary, nocheck)"
t=$(date +%s)
if (cd "$work/echod" && DEB_BUILD_OPTIONS="nocheck ${DEB_BUILD_OPTIONS:-}" \
	dpkg-buildpackage -us -uc) >"$work/build.log" 2>&1; then
	pass "dpkg-buildpackage builds echod ($(($(date +%s) - t)) s)"
else
	tail -n 40 "$work/build.log"
	fail "dpkg-buildpackage builds echod"
	summary
	exit 1
fi
changes=$(ls "$work"/echod_*.changes)
deb=$(ls "$work"/echod_*_*.deb)

say "lintian -I -E --pedantic $(basename "$changes")"
lintian -I -E --pedantic --tag-display-limit 0 "$changes" >"$work/lintian.tags" 2>&1 || true
# As root lintian says so on its first line; that is not a tag.
grep -v '^running with root privileges' "$work/lintian.tags" || true
if grep -q '^[EW]: ' "$work/lintian.tags"; then
	fail "lintian: no error, no warning"
else
	pass "lintian: no error, no warning ($(grep -c '^[IPX]: ' "$work/lintian.tags") I/P/X tags)"
fi

say "autopkgtest $(basename "$deb") -- null"
t=$(date +%s)
rc=0
autopkgtest --no-built-binaries --user=nobody --output-dir="$work/autopkgtest" \
	"$deb" "$work/tree" -- null >"$work/autopkgtest.log" 2>&1 || rc=$?
# Each test's own lines, then autopkgtest's summary; apt's noise stays in the log.
if [ -f "$work/autopkgtest/summary" ]; then
	while read -r name _; do
		printf -- '--- %s\n' "$name"
		cat "$work/autopkgtest/$name-stdout" 2>/dev/null || true
	done <"$work/autopkgtest/summary"
	cat "$work/autopkgtest/summary"
fi
# 0: all passed; 2: at least one skipped, none failed (socket-activation without systemd).
case $rc in
0 | 2) pass "autopkgtest -- null: no test failed ($(($(date +%s) - t)) s)" ;;
*)
	tail -n 30 "$work/autopkgtest.log"
	fail "autopkgtest -- null (exit $rc)"
	;;
esac
summary
