#!/bin/sh
# SPDX-License-Identifier: MIT
# Dependencies between src/ modules point one way (STYLE.md section 1): a module
# is x.c and x.h; x -> y when one of x's files has #include "y.h". Fails,
# printing the cycle, when the graph has one (x -> y -> ... -> x).
set -u

dir=${1:-${srcdir:-.}/src}
if [ ! -d "$dir" ]; then
	echo "FAIL: $dir: no such directory"
	exit 1
fi

files=$(find "$dir" -name '*.[ch]' | LC_ALL=C sort)
if [ -z "$files" ]; then
	echo "FAIL: no source files under $dir"
	exit 1
fi

# One "x y" line per edge, then a depth-first search for a back edge.
edges=$(for f in $files; do
	x=$(basename "$f"); x=${x%.*}
	sed -n 's/^[[:space:]]*#[[:space:]]*include[[:space:]]*"\([^"]*\)\.h".*/\1/p' "$f" |
	while read -r y; do
		y=$(basename "$y")
		[ "$x" != "$y" ] && echo "$x $y"
	done
done | LC_ALL=C sort -u)

printf '%s\n' "$edges" | awk '
NF == 2 { succ[$1] = succ[$1] " " $2; node[$1]; node[$2] }
function visit(v,    n, i, w, list, j, cyc) {
	state[v] = 1
	path[++depth] = v
	n = split(succ[v], list, " ")
	for (i = 1; i <= n; i++) {
		w = list[i]
		if (state[w] == 1) {
			for (j = depth; path[j] != w; j--)
				;
			cyc = path[j]
			for (j++; j <= depth; j++)
				cyc = cyc " -> " path[j]
			print "FAIL: include cycle: " cyc " -> " w
			found = 1
		} else if (state[w] == 0)
			visit(w)
	}
	depth--
	state[v] = 2
}
END {
	for (v in node) {
		state[v] = 0
		count++
	}
	for (v in node)
		if (state[v] == 0)
			visit(v)
	if (found)
		exit 1
	printf "PASS: %d modules, no include cycle\n", count
}'
