#!/bin/sh
# SPDX-License-Identifier: MIT
# The include graph of src/: one line "from -> to  (n)" per pair of folders,
# n the number of #include lines; with -m, one line "x -> y" per module edge
# (a module is x.c and x.h, named with its folder). tests/layers.sh checks
# that the folder edges all point down.
# Usage: tools/include-graph.sh [-m] [SRCDIR]
set -u

modules=false
if [ "${1:-}" = "-m" ]; then
	modules=true
	shift
fi
dir=${1:-$(dirname "$0")/../src}
cd "$dir" || exit 1

# "from to" per include of one of ours: from is folder/module, to likewise.
find . -name '*.[ch]' | sed 's#^\./##' | LC_ALL=C sort | while read -r f; do
	sed -n 's/^[[:space:]]*#[[:space:]]*include[[:space:]]*"\([^"]*\)\.h".*/\1/p' "$f" |
	    sed "s#^#${f%.*} #"
done | awk -v modules="$modules" '
BEGIN {
	while (("find . -name \"*.h\"" | getline h) > 0) {
		sub(/^\.\//, "", h); sub(/\.h$/, "", h)
		n = split(h, part, "/"); where[part[n]] = h
	}
}
function folder(m) { return index(m, "/") ? substr(m, 1, index(m, "/") - 1) : "(programs)" }
{
	n = split($2, part, "/"); to = where[part[n]]
	if (to == "" || to == $1)
		next
	if (modules == "true") {
		if (!seen[$1 " -> " to]++)
			print $1 " -> " to
	} else if (folder($1) != folder(to))
		count[folder($1) " -> " folder(to)]++
}
END {
	for (e in count)
		printf "%-22s (%d)\n", e, count[e]
}' | LC_ALL=C sort
