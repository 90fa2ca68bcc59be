#!/bin/sh
# SPDX-License-Identifier: MIT
# Install what echod needs on Debian 12, as root: deps.sh [build|test|all] (default: test).
#   build  compiler, autotools, pkg-config and the libraries
#   test   build + what the test suites run against (xinetd, socat, valgrind, promtool, tshark,
#          the man page linters: mandoc, groff-base, man-db; bash-completion; for the mesh
#          test: iproute2, nftables, python3, curl)
#   all    test + the benchmark, packaging and end-to-end test tools
set -eu

what=${1:-test}
build="build-essential autoconf automake pkg-config libconfig-dev libsystemd-dev libmicrohttpd-dev nettle-dev liburcu-dev libjansson-dev check systemd"
test="$build xinetd socat valgrind netcat-openbsd procps util-linux prometheus tshark \
	mandoc groff-base man-db bash-completion iproute2 nftables python3 curl"
all="$test clang libclang-rt-dev debhelper dpkg-dev lintian devscripts fakeroot \
	systemd-container debootstrap perl autopkgtest licensecheck"

case $what in
build) pkgs=$build ;;
test) pkgs=$test ;;
all) pkgs=$all ;;
*) echo "usage: $0 [build|test|all]" >&2; exit 64 ;;
esac

if [ "$(id -u)" -ne 0 ]; then
	echo "deps.sh: run as root (apt-get install)" >&2
	exit 77
fi
# Skip apt when everything is there already (fast re-runs, offline machines).
missing=
for p in $pkgs; do
	dpkg-query -W -f '${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' ||
		missing="$missing $p"
done
[ -z "$missing" ] && exit 0
export DEBIAN_FRONTEND=noninteractive
apt-get update -q
# shellcheck disable=SC2086
apt-get install -y -q --no-install-recommends $missing
