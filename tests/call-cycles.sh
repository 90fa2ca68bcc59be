#!/bin/sh
# SPDX-License-Identifier: MIT
# No two files of src/ call each other, directly or round a longer loop
# (issue 23): from the built libraries, file a -> file b when a's object
# needs a function b's object defines (nm). Fails, printing the cycle, when
# the graph has one. Needs the libraries built (make check builds them first).
set -u

build=${1:-.}
libs="$build/src/libechod.a $build/src/libstamp.a $build/src/libjson.a $build/src/libprobe.a"
for l in $libs; do
	if [ ! -f "$l" ]; then
		echo "FAIL: $l: not built"
		exit 1
	fi
done

# "object T symbol" and "object U symbol" lines, object names without the
# automake prefix (libechod_a-stream_conn.o -> stream_conn).
nm -A $libs 2>/dev/null | awk '
NF < 2 { next }
{
	split($1, p, ":"); obj = p[2]
	lib = obj; sub(/_a-.*/, "", lib); sub(/^lib/, "", lib)
	sub(/^lib[a-z]+_a-/, "", obj); sub(/\.o$/, "", obj); obj = lib "/" obj
	if ($(NF - 1) == "T" || $(NF - 1) == "D" || $(NF - 1) == "B" || $(NF - 1) == "R")
		def[$NF] = obj
	else if ($(NF - 1) == "U")
		use[obj] = use[obj] " " $NF
	node[obj]
}
END {
	for (a in use) {
		n = split(use[a], s, " ")
		for (i = 1; i <= n; i++)
			if ((s[i] in def) && def[s[i]] != a && !((a, def[s[i]]) in edge)) {
				edge[a, def[s[i]]]
				succ[a] = succ[a] " " def[s[i]]
				nedges++
			}
	}
	for (v in node)
		if (!state[v])
			visit(v)
	if (found)
		exit 1
	printf "PASS: %d objects, %d call edges, no cycle\n", length(node), nedges
}
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
			print "FAIL: call cycle: " cyc " -> " w
			found = 1
		} else if (!state[w])
			visit(w)
	}
	depth--
	state[v] = 2
}'
