#!/bin/sh
# SPDX-License-Identifier: MIT
# Every test echod has, from a fresh Debian 12 machine, as root:
# dependencies, a -Werror build and `make check`, the integration suites
# under valgrind, 60 s of each fuzzer, `make distcheck`, the same suite under
# ASan+UBSan, lintian and autopkgtest on the built package
# (tools/debian-check.sh), and the Debian package installed under a real
# systemd in a container (tests/e2e), and the fleet's mesh of four echods in
# network namespaces scraped by Prometheus (make check-mesh). Run from the top
# of the source tree.
set -eu

say() { printf '\n=== %s\n' "$*"; }
jobs=$(nproc 2>/dev/null || echo 2)

say "dependencies"
sh tools/deps.sh all

say "build (-Werror) and make check"
if [ -f Makefile ]; then make -s distclean >/dev/null 2>&1 || true; fi
autoreconf -fi
./configure -q CFLAGS="-O2 -g -Werror"
make -s -j"$jobs"
make -s check || { cat tests/*.log; exit 1; }

say "make check-valgrind: the integration suites with echod under valgrind memcheck"
make -s check-valgrind || { cat tests/check_echo.log tests/check_systemd.log \
	tests/check_hostile.log; exit 1; }

say "make fuzz: each libFuzzer harness for 60 s from the committed corpus"
make -s fuzz FUZZ_SECONDS=60

say "make distcheck"
make -s distcheck DISTCHECK_CONFIGURE_FLAGS="CFLAGS='-O2 -g -Werror'"

say "make check under AddressSanitizer and UndefinedBehaviorSanitizer"
make -s distclean
./configure -q --enable-sanitizers CFLAGS="-O1 -g -Werror"
make -s -j"$jobs"
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	make -s check || { cat tests/*.log; exit 1; }
make -s distclean

say "Debian checks: lintian, autopkgtest (null runner) on the installed package"
sh tools/debian-check.sh

say "end-to-end: the .deb installed under a real systemd in a container"
bash tests/e2e/systemd-e2e.sh

say "mesh: four echods in network namespaces, nftables loss, scraped by Prometheus"
# check-mesh builds only what it runs (echod, echo-client): the stage stays short.
./configure -q CFLAGS="-O2 -g -Werror"
make -s -j"$jobs" check-mesh
make -s distclean

say "all tests passed"
