#!/bin/sh
# SPDX-License-Identifier: MIT
# The built echod.service and echod@.service stay at an exposure of 1.2 or less in
# systemd-analyze security --offline=true: no hardening line may go unnoticed.
# Skips (77) only where systemd-analyze is absent.
set -u

MAX=1.2
top=$(dirname "$(dirname "${ECHOD:-./src/echod}")")

if ! command -v systemd-analyze >/dev/null 2>&1; then
	echo "SKIP: systemd-analyze not found"
	exit 77
fi

status=0
for unit in echod.service echod@.service; do
	file=$top/systemd/$unit
	if [ ! -r "$file" ]; then
		echo "FAIL: $file not built"
		status=1
		continue
	fi
	out=$(LC_ALL=C systemd-analyze security --offline=true --no-pager "$file" 2>&1)
	level=$(printf '%s\n' "$out" |
		sed -n 's/.*Overall exposure level for [^:]*: \([0-9.]*\).*/\1/p')
	if [ -z "$level" ]; then
		printf '%s\n' "$out"
		echo "FAIL: $unit: no exposure level in the output above"
		status=1
	elif awk -v l="$level" -v m="$MAX" 'BEGIN { exit !(l + 0 <= m + 0) }'; then
		echo "PASS: $unit: exposure $level <= $MAX"
	else
		printf '%s\n' "$out"
		echo "FAIL: $unit: exposure $level > $MAX"
		status=1
	fi
done
exit $status
