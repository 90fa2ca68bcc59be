#!/bin/sh
# SPDX-License-Identifier: MIT
# src/ is in layers (README "Source layout"): each folder includes headers of
# its own and of the folders below it only, never above:
#   json < base < serve < stamp < probe < config < core < control < src/ (the programs)
# so the data plane (serve) knows nothing of the configuration or STAMP, and
# STAMP plugs into it as a datagram handler; the probe engine (probe) sends
# STAMP and echo probes and knows nothing of the configuration that feeds it
# targets. Fails, naming the file and the
# header, on any include that points up.
set -u

dir=${1:-${srcdir:-.}/src}
order="json base serve stamp probe config core control"

rank() {
	r=0
	for f in $order; do
		[ "$f" = "$1" ] && { echo $r; return; }
		r=$((r + 1))
	done
	echo $r		# the programs at the top of src/
}

# header basename -> folder
map=$(cd "$dir" && find . -name '*.h' | sed 's#^\./##' | awk -F/ 'NF == 2 { print $2, $1 } NF == 1 { print $1, "." }')
if [ -z "$map" ]; then
	echo "FAIL: no headers under $dir"
	exit 1
fi

bad=0
checked=0
for f in $(cd "$dir" && find . -name '*.[ch]' | sed 's#^\./##' | LC_ALL=C sort); do
	case $f in */*) from=${f%%/*} ;; *) from=. ;; esac
	rf=$(rank "$from")
	for h in $(sed -n 's/^[[:space:]]*#[[:space:]]*include[[:space:]]*"\([^"]*\)".*/\1/p' "$dir/$f"); do
		to=$(printf '%s\n' "$map" | awk -v h="$(basename "$h")" '$1 == h { print $2; exit }')
		[ -n "$to" ] || continue
		checked=$((checked + 1))
		rt=$(rank "$to")
		if [ "$rt" -gt "$rf" ]; then
			echo "FAIL: $f includes $to/$(basename "$h"): $from is below $to"
			bad=1
		fi
	done
done
[ $bad -eq 0 ] || exit 1
echo "PASS: $checked includes, every one points down ($order, programs)"
