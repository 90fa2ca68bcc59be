#!/bin/sh
# SPDX-License-Identifier: MIT
# Every man page in man/ renders without a single warning: mandoc's linter (down to its
# style level: lines over 80 bytes, empty blocks, bad characters) and groff with every
# warning on, as man --warnings renders it at 80 columns (lintian's check). Any output fails.
set -u

srcdir=${srcdir:-.}
for tool in mandoc groff man; do
	if ! command -v "$tool" >/dev/null 2>&1; then
		echo "SKIP: $tool not installed (Debian: mandoc, groff-base, man-db; tools/deps.sh)"
		exit 77
	fi
done
failed=0
count=0
for page in "$srcdir"/man/*.[1-9]; do
	count=$((count + 1))
	out=$(mandoc -T lint -W style "$page" 2>&1)
	out=$out$(groff -ww -z -man -t "$page" 2>&1)
	out=$out$(LC_ALL=C.UTF-8 MANROFFSEQ='' MANWIDTH=80 \
		man --warnings -E UTF-8 -l -Tutf8 -Z "$page" 2>&1 >/dev/null)
	if [ -n "$out" ]; then
		echo "FAIL: $page"
		echo "$out"
		failed=1
	fi
done
if [ "$count" -eq 0 ]; then
	echo "FAIL: no man page under $srcdir/man"
	exit 1
fi
echo "$count man pages checked"
exit $failed
