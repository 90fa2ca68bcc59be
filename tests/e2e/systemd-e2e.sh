#!/bin/bash
# SPDX-License-Identifier: MIT
# End-to-end test: build the .deb, boot Debian 12 under systemd-nspawn, install it, probe it.
# Then one scenario per admin action on /etc/echod/echod.conf, each judged by what answers:
# every configured listener and 127.0.0.2 (a local address no configuration names) over TCP
# and UDP, after systemctl reload, after systemctl restart echod, and after
# systemctl daemon-reload && systemctl restart echod.socket (the generator rederives the
# socket unit); after that full apply, ss -lntu must show exactly the configured sockets.
# A table of the scenarios (what answered, what the reload reported) ends the output.
#
# Needs root and the Debian archive (the mirror in /etc/apt/sources.list.d/debian.sources).
# The container gets its own network namespace (--private-network): all traffic stays on
# its loopback. The host has no systemd as PID 1 and no system bus, hence --register=no
# --keep-unit and nsenter instead of machinectl.
#
# Environment:
#   ECHOD_E2E_SRCDIR   source tree to package (default: two levels above this script)
#   ECHOD_E2E_CACHE    where the base root filesystem is cached (default /var/cache/echod-e2e)
#   ECHOD_E2E_DEB      use this .deb instead of building one (skips the build and lintian)
#   ECHOD_E2E_LOG      detailed log (default ./systemd-e2e.log)
#   ECHOD_E2E_MIRROR   Debian mirror (default: the host's, else http://deb.debian.org/debian)
#   ECHOD_E2E_REFRESH  1: rebuild the cached base root filesystem
#   DEB_BUILD_OPTIONS  passed to dpkg-buildpackage (nocheck skips the unit tests)

set -u -o pipefail

# MESSAGE_IDs of the start and reload messages (src/base/log.h, echod(8)).
MSGID_START=ebad947a41344322b5a68ca23627c15c
MSGID_RELOAD=0985fbbf29eb4bd588b4a42c11d4c418
# A TCP port added to the configuration by the reload check.
RELOAD_PORT=7007
# The metrics endpoint's port in the metrics scenario (echod.conf(5)'s default).
METRICS_PORT=9110
# What every scenario probes: each port any scenario configures, on these local addresses
# (127.0.0.2 is named by no configuration but a wildcard covers it), over TCP and UDP.
PROBE_PORTS="7 9 7007 7010"
PROBE_ADDRS="127.0.0.1 ::1 127.0.0.2"
CONF=/etc/echod/echod.conf
UNIX_PATH=/run/echod/echo.sock
SUITE=bookworm
# Packages the base root filesystem gets besides systemd: the probes' tools.
BASE_PACKAGES=systemd,systemd-sysv,dbus,netbase,perl,socat,netcat-openbsd,procps,iproute2
HOST_PACKAGES=(systemd-container debootstrap build-essential dpkg-dev debhelper lintian
	util-linux procps)
CONTAINER_PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
SRCDIR=$(cd "${ECHOD_E2E_SRCDIR:-$here/../..}" && pwd)
CACHE=${ECHOD_E2E_CACHE:-/var/cache/echod-e2e}
LOG=${ECHOD_E2E_LOG:-$PWD/systemd-e2e.log}
BASE=$CACHE/base

passed=0
failed=0
rows=()		# the summary table, one row per scenario step
reports=()	# what each systemctl reload printed, and echodctl's report
scenario=
run_dir=
root=
nspawn_pid=
cpid=
t0=$SECONDS

log() { printf '%s\n' "$*" >>"$LOG"; }
note() { printf '# %s\n' "$*"; log "# $*"; }

pass() { passed=$((passed + 1)); printf 'PASS: %s\n' "$1"; log "PASS: $1"; }
fail() { failed=$((failed + 1)); printf 'FAIL: %s\n' "$1"; log "FAIL: $1"; }

# check DESCRIPTION COMMAND...: one line per check; the command's output goes to the log.
check() {
	local what=$1
	shift
	log "--- $what: $*"
	if "$@" >>"$LOG" 2>&1; then pass "$what"; else fail "$what"; fi
}

summary() {
	printf '%d passed, %d failed\n' "$passed" "$failed"
	log "$passed passed, $failed failed ($((SECONDS - t0)) s)"
	[ "$failed" -eq 0 ] && [ "$passed" -gt 0 ]
}

# fatal DESCRIPTION: a setup step failed; nothing after it can be checked.
fatal() {
	fail "$1"
	note "cannot continue; details in $LOG"
	summary
	exit 1
}

# Run a command inside the booted container with a clean environment, bounded in time.
cexec() {
	timeout -k 5 120 nsenter -t "$cpid" -a \
		env -i PATH=$CONTAINER_PATH LANG=C.UTF-8 HOME=/root TERM=dumb SYSTEMD_PAGER= "$@"
}

# Run a command in the (not booted) root filesystem with the host's network.
coffline() {
	timeout -k 5 900 systemd-nspawn --quiet --register=no --keep-unit --console=pipe \
		-D "$1" -- /usr/bin/env -i PATH=$CONTAINER_PATH LANG=C.UTF-8 HOME=/root \
		DEBIAN_FRONTEND=noninteractive "${@:2}" </dev/null
}

teardown() {
	local i
	if [ -n "$nspawn_pid" ] && kill -0 "$nspawn_pid" 2>/dev/null; then
		# nspawn turns SIGTERM into a clean poweroff of the container.
		kill -TERM "$nspawn_pid" 2>/dev/null
		for i in $(seq 300); do
			kill -0 "$nspawn_pid" 2>/dev/null || break
			sleep 0.1
		done
		if kill -KILL "$nspawn_pid" 2>/dev/null; then
			log "teardown: container did not power off within 30 s, killed"
		else
			log "teardown: container powered off in $((i / 10)).$((i % 10)) s"
		fi
		wait "$nspawn_pid" 2>/dev/null
	fi
	if [ -n "$root" ] && mountpoint -q "$root"; then
		umount "$root" 2>/dev/null || umount -l "$root"
	fi
	[ -n "$run_dir" ] && rm -rf "$run_dir"
}

# The Debian mirror the host uses, so that the container sees the same archive.
host_mirror() {
	local m=
	if [ -r /etc/apt/sources.list.d/debian.sources ]; then
		m=$(awk '/^URIs:/ { print $2; exit }' /etc/apt/sources.list.d/debian.sources)
	fi
	if [ -z "$m" ] && [ -r /etc/apt/sources.list ]; then
		m=$(awk '$1 == "deb" && $3 == "'$SUITE'" { print $2; exit }' /etc/apt/sources.list)
	fi
	printf '%s\n' "${m:-http://deb.debian.org/debian}"
}

install_host_packages() {
	local -a pkgs=("${HOST_PACKAGES[@]}") more=()

	[ -n "${ECHOD_E2E_DEB:-}" ] || read -r -a more <<<"$(build_depends)"
	pkgs+=("${more[@]}")
	export DEBIAN_FRONTEND=noninteractive
	timeout 1200 apt-get install -y -q --no-install-recommends "${pkgs[@]}" >>"$LOG" 2>&1 &&
		return 0
	# A fresh machine may have no package lists yet.
	timeout 600 apt-get update -q >>"$LOG" 2>&1 &&
		timeout 1200 apt-get install -y -q --no-install-recommends "${pkgs[@]}" >>"$LOG" 2>&1
}

# Build-Depends from debian/control, without versions, alternatives or build profiles.
build_depends() {
	sed -n '/^Build-Depends:/,/^[^ ]/p' "$SRCDIR/debian/control" |
		sed 's/^Build-Depends://; /^[A-Z]/d' | tr ',' '\n' |
		sed 's/[(|<[].*//; s/^ *//; s/ *$//; /^$/d; s/^debhelper-compat$/debhelper/' | tr '\n' ' '
}

# Copy the source tree (the working tree of a git checkout, without its build outputs) and
# build the binary package there, so the caller's tree is never cleaned or written.
build_deb() {
	mkdir -p "$run_dir/build/src"
	if git -C "$SRCDIR" rev-parse --is-inside-work-tree >/dev/null 2>&1; then
		(cd "$SRCDIR" && git ls-files -z --cached --others --exclude-standard |
			while IFS= read -r -d '' f; do [ -e "$f" ] && printf '%s\0' "$f"; done |
			tar --null -T - -cf -) | tar -xf - -C "$run_dir/build/src" || return 1
	else
		tar -C "$SRCDIR" --exclude=.git -cf - . | tar -xf - -C "$run_dir/build/src" || return 1
	fi
	(cd "$run_dir/build/src" && timeout 1800 dpkg-buildpackage -us -uc -b) >>"$LOG" 2>&1 || return 1
	deb=$(find "$run_dir/build" -maxdepth 1 -name 'echod_*.deb' | head -n 1)
	changes=$(find "$run_dir/build" -maxdepth 1 -name 'echod_*.changes' | head -n 1)
	[ -n "$deb" ] && [ -n "$changes" ]
}

# lintian's verdict on the .changes: no error and no warning. Every tag shown (info,
# pedantic and experimental included) is kept in $run_dir/lintian.tags for the summary.
lintian_clean() {
	lintian --display-info --pedantic --display-experimental --tag-display-limit 0 \
		"$changes" >"$run_dir/lintian.tags" 2>&1
	cat "$run_dir/lintian.tags"
	! grep -q '^[EW]: ' "$run_dir/lintian.tags"
}

# grep -x >/dev/null, not -q: a reader that stops early fails the pipe under pipefail.
deb_has() { dpkg-deb -c "$deb" | awk '{ print $6 }' | grep -x "\\.$1" >/dev/null; }
deb_conffile() { dpkg-deb --info "$deb" conffiles | grep -x "$1" >/dev/null; }
deb_has_units() {
	deb_has /lib/systemd/system/echod.socket && deb_has /lib/systemd/system/echod.service
}

# The cached base: debootstrap once, then reuse it read-only under an overlay per run.
make_base() {
	local key new=$CACHE/base.new
	key="$SUITE minbase $BASE_PACKAGES $MIRROR v2"
	if [ "${ECHOD_E2E_REFRESH:-0}" != 1 ] && [ -d "$BASE" ] &&
	   [ "$(cat "$CACHE/base.stamp" 2>/dev/null)" = "$key" ]; then
		note "base root filesystem: cached in $BASE"
		return 0
	fi
	note "base root filesystem: debootstrap $SUITE from $MIRROR into $BASE"
	rm -rf "$new" "$BASE" "$CACHE/base.stamp"
	timeout 1200 debootstrap --variant=minbase --include="$BASE_PACKAGES" "$SUITE" "$new" "$MIRROR" \
		>>"$LOG" 2>&1 || return 1
	# The archive's Release files can be older than the clock.
	echo 'Acquire::Check-Valid-Until "false";' >"$new/etc/apt/apt.conf.d/99no-check-valid-until"
	echo "deb $MIRROR $SUITE main" >"$new/etc/apt/sources.list"
	echo echod-e2e >"$new/etc/hostname"
	coffline "$new" apt-get update -q >>"$LOG" 2>&1 || return 1
	coffline "$new" apt-get clean >>"$LOG" 2>&1 || return 1
	mv "$new" "$BASE" && printf '%s\n' "$key" >"$CACHE/base.stamp"
}

# A fresh overlay over the base for this run; the container's changes die with it. Where the
# cache's file system cannot hold an overlay's upper layer, a copy of the base does the same.
mount_overlay() {
	mkdir -p "$run_dir/upper" "$run_dir/work" "$run_dir/root" || return 1
	if mount -t overlay overlay \
		-o "lowerdir=$BASE,upperdir=$run_dir/upper,workdir=$run_dir/work" "$run_dir/root"; then
		root=$run_dir/root
		return 0
	fi
	note "overlayfs unavailable here: copying the base root filesystem instead"
	rmdir "$run_dir/root" && cp -a --reflink=auto "$BASE" "$run_dir/root" && root=$run_dir/root
}

# Fetch the package's dependencies with the host's network; the booted container has none.
download_deps() {
	coffline "$root" sh -c "apt-get update -q && apt-get install -y -q --download-only \
		/root/e2e/$1 autopkgtest dpkg-dev python3 man-db"
}

boot_container() {
	local i state
	systemd-nspawn --quiet --boot --private-network --register=no --keep-unit \
		--console=read-only --machine=echod-e2e -D "$root" </dev/null >"$run_dir/console.log" 2>&1 &
	nspawn_pid=$!
	for i in $(seq 100); do
		cpid=$(pgrep -P "$nspawn_pid" | head -n 1)
		[ -n "$cpid" ] && [ "$(cat /proc/"$cpid"/comm 2>/dev/null)" = systemd ] && break
		cpid=
		kill -0 "$nspawn_pid" 2>/dev/null || break
		sleep 0.1
	done
	[ -n "$cpid" ] || return 1
	# is-system-running cannot answer before PID 1 has opened its private bus; retry.
	for i in $(seq 120); do
		state=$(cexec systemctl is-system-running --wait 2>/dev/null)
		case $state in
		running | degraded) echo "container systemd: $state"; return 0 ;;
		esac
		sleep 0.5
	done
	return 1
}

# --- probes run inside the container -------------------------------------------------------

write_probes() {
	mkdir -p "$root/root/e2e"
	# Net::Ping speaks the echo service: tcp (connect), stream (data echoed), udp (datagram).
	cat >"$root/root/e2e/ping.pl" <<'EOF'
use strict;
use warnings;
use Net::Ping;
my ($proto, $host, $port) = @ARGV;
my $p = Net::Ping->new({ proto => $proto, timeout => 5, data_size => 1000,
			 family => ($host =~ /:/ ? 'ipv6' : 'ipv4') });
$p->service_check(1);	# a refused connection is a failure, not "host reachable"
$p->port_number($port);
$p->open($host) if $proto eq 'stream';
exit($p->ping($host) ? 0 : 1);
EOF
	# Holds one TCP connection across a reload: echo, signal ready, wait for go, echo again.
	cat >"$root/root/e2e/hold.pl" <<'EOF'
use strict;
use warnings;
use IO::Socket::IP;
my ($host, $port, $ready, $go) = @ARGV;
$SIG{ALRM} = sub { die "timeout\n" };
my $s = IO::Socket::IP->new(PeerHost => $host, PeerPort => $port, Proto => 'tcp')
	or die "connect: $!\n";
sub echo_ok {
	my ($msg) = @_;
	my ($got, $buf) = ('', '');
	alarm 10;
	syswrite($s, $msg) == length($msg) or die "write: $!\n";
	while (length($got) < length($msg)) {
		sysread($s, $buf, 65536) or die "read: $!\n";
		$got .= $buf;
	}
	alarm 0;
	return $got eq $msg;
}
echo_ok("before reload\n") or exit 2;
open(my $fh, '>', $ready) or die "$ready: $!\n";
close($fh);
for (1 .. 600) {
	last if -e $go;
	select(undef, undef, undef, 0.1);
}
-e $go or exit 4;
echo_ok('after reload ' . ('x' x 4000) . "\n") or exit 3;
print "old connection still echoes\n";
exit 0;
EOF
	# Probes every "PROTO HOST PORT" triple at once, one line each: PROTO HOST PORT VERDICT,
	# where VERDICT is answered (the bytes came back), refused, reset, closed, timeout or
	# silent (a datagram got no answer in 2 s).
	cat >"$root/root/e2e/probe.pl" <<'EOF'
use strict;
use warnings;
use Errno qw(ECONNREFUSED ECONNRESET);
use IO::Select;
use IO::Socket::IP;
use POSIX ();
use Socket qw(SOCK_DGRAM);

sub reply {
	my ($s, $msg, $wait) = @_;
	my ($got, $buf, $sel) = ('', '', IO::Select->new($s));
	my $end = time + $wait;
	while (length($got) < length($msg)) {
		my $left = $end - time;
		return 'timeout' if $left <= 0 || !$sel->can_read($left);
		my $n = sysread($s, $buf, 65536);
		return $! == ECONNRESET ? 'reset' : $! == ECONNREFUSED ? 'refused' : "error:$!"
			if !defined $n;
		return 'closed' if $n == 0;
		$got .= $buf;
		return 'answered' if $s->socktype == SOCK_DGRAM && $got eq $msg;
	}
	return $got eq $msg ? 'answered' : 'garbled';
}

sub probe {
	my ($proto, $host, $port) = @_;
	my $msg = "echod-e2e $proto $host $port $$ " . ('x' x 64) . "\n";
	my $s = IO::Socket::IP->new(PeerHost => $host, PeerPort => $port, Proto => $proto,
				    Timeout => 3);
	return $! == ECONNREFUSED ? 'refused' : "error:$!" if !$s;
	my $n = syswrite($s, $msg);
	return $! == ECONNRESET ? 'reset' : $! == ECONNREFUSED ? 'refused' : "error:$!"
		if !defined $n;
	my $v = reply($s, $msg, $proto eq 'udp' ? 2 : 3);
	return $proto eq 'udp' && $v eq 'timeout' ? 'silent' : $v;
}

$| = 1;
my @kids;
while (my ($proto, $host, $port) = splice(@ARGV, 0, 3)) {
	my $pid = fork() // die "fork: $!\n";
	if ($pid == 0) {
		my $line = "$proto $host $port " . probe($proto, $host, $port) . "\n";
		syswrite(STDOUT, $line);
		POSIX::_exit(0);
	}
	push @kids, $pid;
}
waitpid($_, 0) for @kids;
EOF
	head -c 262144 /dev/urandom >"$root/root/e2e/tcp.in"
	head -c 8192 /dev/urandom >"$root/root/e2e/udp.in"
}

ping_ok() { cexec perl /root/e2e/ping.pl "$@"; }
ping_refused() { ! cexec perl /root/e2e/ping.pl "$@"; }
tcp_udp_ok() { ping_ok stream "$1" "$2" && ping_ok udp "$1" "$2"; }
tcp_both_families_ok() { ping_ok stream 127.0.0.1 "$1" && ping_ok stream ::1 "$1"; }
client_ok() {
	cexec echo-client -c 3 -i 0 -s 1400 "$1" && cexec echo-client -u -c 3 -i 0 -s 1400 "$1"
}

# Send a payload with nc or socat and compare what comes back byte for byte.
payload_ok() {
	local name=$1 in=$2
	shift 2
	rm -f "$root/root/e2e/$name.out"
	cexec sh -c "$* < /root/e2e/$in > /root/e2e/$name.out" || return 1
	cmp "$root/root/e2e/$in" "$root/root/e2e/$name.out"
}

unit_state() { [ "$(cexec systemctl is-active "$1")" = "$2" ]; }
unit_enabled() { [ "$(cexec systemctl is-enabled "$1")" = "$2" ]; }
nothing_on_port() { ! cexec ss -Hlntu | awk '{ print $5 }' | grep -E ":$1\$"; }
units_inactive() { unit_state echod.socket inactive && unit_state echod.service inactive; }
no_unit_files() {
	[ -z "$(cexec systemctl list-unit-files --no-legend 'echod*')" ] &&
		unit_state echod.socket inactive
}
main_pid() { cexec systemctl show -P MainPID echod.service; }
restarted_since() { unit_state echod.service active && [ "$(main_pid)" != "$1" ]; }
no_echod_process() { ! cexec pgrep -a -x echod; }

status_line() { cexec systemctl status --no-pager echod.service | grep -E '^ +Status: "'; }

# journal_has MSGID: echod.service logged a message with this MESSAGE_ID (journald may lag).
journal_has() {
	local i
	for i in $(seq 20); do
		cexec journalctl -u echod.service -o verbose --no-pager |
			grep -F "MESSAGE_ID=$1" && return 0
		sleep 0.5
	done
	return 1
}

# Add a TCP listener on RELOAD_PORT (every address) to the installed configuration.
conf_add_listener() {
	cexec sed -i "/^listeners = (/a\\\t{ protocol = \"tcp\"; port = $RELOAD_PORT; }," \
		/etc/echod/echod.conf &&
		cexec grep -n "^	{ protocol = \"tcp\"; port = $RELOAD_PORT; }," /etc/echod/echod.conf &&
		cexec echod --test-config
}

reload_keeps_connection() {
	local pid_before
	pid_before=$(main_pid)
	rm -f "$root/root/e2e/ready" "$root/root/e2e/go"
	cexec perl /root/e2e/hold.pl 127.0.0.1 7 /root/e2e/ready /root/e2e/go \
		>"$run_dir/hold.out" 2>&1 &
	hold_pid=$!
	for _ in $(seq 100); do
		[ -e "$root/root/e2e/ready" ] && break
		sleep 0.1
	done
	check "a TCP connection is open before the reload" test -e "$root/root/e2e/ready"
	check "config edited: TCP listener on port $RELOAD_PORT added" conf_add_listener
	check "systemctl reload echod succeeds" cexec systemctl reload echod.service
	check "reload kept the same main process" test "$(main_pid)" = "$pid_before"
	check "journal has the reload message (MESSAGE_ID=$MSGID_RELOAD)" journal_has "$MSGID_RELOAD"
	check "TCP echo on the new port $RELOAD_PORT, 127.0.0.1 and ::1 (Net::Ping stream)" \
		tcp_both_families_ok "$RELOAD_PORT"
	check "TCP 256 KiB random payload via nc on port $RELOAD_PORT, byte for byte" \
		payload_ok nc-tcp-reload tcp.in timeout 30 nc -N -w 10 127.0.0.1 "$RELOAD_PORT"
	check "TCP echo on port 7 still served after reload (Net::Ping stream)" \
		ping_ok stream 127.0.0.1 7
	touch "$root/root/e2e/go"
	wait "$hold_pid"
	local rc=$?
	cat "$run_dir/hold.out" >>"$LOG"
	check "connection opened before the reload still echoes" test "$rc" -eq 0
}

purge_leaves_nothing() {
	local left
	left=$(cexec find / -xdev \( -path /root/e2e -o -path /proc -o -path /var/log/journal \
		-o -path /var/cache/apt \) -prune -o -name '*echod*' -print)
	echo "left: ${left:-nothing}"
	[ -z "$left" ]
}

# --- scenarios: one admin action each, judged by what answers --------------------------------
#
# One HTTP GET of /metrics on 127.0.0.1:PORT with bash's /dev/tcp (no curl in the base):
# the whole response on stdout.
scrape() {
	cexec bash -c 'exec 3<>"/dev/tcp/127.0.0.1/$1" || exit 1
		printf "GET /metrics HTTP/1.1\r\nHost: e2e\r\nConnection: close\r\n\r\n" >&3
		timeout 10 cat <&3' scrape "$1"
}

# scrape_has PORT TEXT...: a 200 whose response holds every TEXT. No pipe into a reader that
# stops early (head, grep -q): under pipefail the writer's SIGPIPE would fail a good answer
# once it is longer than one write.
scrape_has() {
	local port=$1 out t
	shift
	out=$(scrape "$port")
	sed -n 1,40p <<<"$out"
	[[ ${out%%$'\n'*} == "HTTP/1.1 200 "* ]] || return 1
	for t in "$@"; do [[ $out == *"$t"* ]] || return 1; done
}

# The Prometheus endpoint of the installed package, once: a metrics block in a drop-in,
# the generator's echod-metrics.socket, a scrape that starts echod through it, then the
# block removed again and its socket stopped (echod.conf(5)).
metrics_scrape() {
	local cursor port=$METRICS_PORT
	scenario="metrics endpoint"
	note "scenario: $scenario"
	step_begin
	check "$scenario: /etc/echod/conf.d/60-metrics.conf written" cexec sh -c \
		"mkdir -p /etc/echod/conf.d && echo 'metrics = { port = $port; };' \
		>/etc/echod/conf.d/60-metrics.conf"
	check "$scenario: echod -t accepts the files" cexec echod -t
	check "$scenario: systemctl daemon-reload && systemctl restart echod.socket" \
		cexec sh -c 'systemctl daemon-reload && systemctl restart echod.socket'
	cexec systemctl cat echod-metrics.socket >>"$LOG" 2>&1
	check "$scenario: echod-metrics.socket is active" unit_state echod-metrics.socket active
	check "$scenario: systemctl stop echod.service" cexec systemctl stop echod.service
	cursor=$(journal_cursor)
	check "$scenario: GET /metrics on 127.0.0.1:$port answers 200 with echod_build_info" \
		scrape_has "$port" "# TYPE echod_build_info gauge" "echod_build_info{version="
	check "$scenario: the scrape started echod.service (socket activation)" \
		unit_state echod.service active
	check "$scenario: echod serves the socket systemd passed as metrics" \
		journal_since_has "$cursor" "socket passed by systemd (metrics)"
	check "$scenario: TCP and UDP echo on port 7 meanwhile" tcp_udp_ok 127.0.0.1 7
	check "$scenario: port $port is no echo listener" \
		ping_refused stream 127.0.0.1 "$port"
	check "$scenario: 60-metrics.conf removed, daemon-reload, restart echod.socket" \
		cexec sh -c 'rm /etc/echod/conf.d/60-metrics.conf && systemctl daemon-reload &&
		systemctl restart echod.socket'
	cexec systemctl stop echod-metrics.socket >>"$LOG" 2>&1
	check "$scenario: nothing listens on port $port after stop echod-metrics.socket" \
		nothing_on_port "$port"
	answered="-"
	step_end "GET /metrics" "-"
}

# stamp_session_ok: one echo-client --stamp session (stateful reflector: loss per direction
# known), its JSON Lines kept in the log; every probe answered, the reflector's dwell time given.
stamp_session_ok() {
	local out
	out=$(cexec echo-client --stamp --json -c 5 -i 0.2 127.0.0.1) || return 1
	printf '%s\n' "$out" >>"$LOG"
	[[ $out == *'"dwell_ms"'* ]] || return 1
	cexec echo-client --stamp -c 3 -i 0.2 ::1 >>"$LOG" 2>&1
}

# The STAMP reflector of the installed package, once: a stamp listener in a drop-in, the
# generator's socket and its ProtectClock=no drop-in, an echo-client --stamp session that
# starts echod through the socket, its counters, then the drop-in removed again.
stamp_reflector() {
	local cursor
	scenario="stamp reflector"
	note "scenario: $scenario"
	step_begin
	check "$scenario: /etc/echod/conf.d/70-stamp.conf written" cexec sh -c \
		"mkdir -p /etc/echod/conf.d && echo 'listeners = ( { protocol = \"stamp\"; \
		port = 862; stamp_mode = \"stateful\"; } );' >/etc/echod/conf.d/70-stamp.conf"
	check "$scenario: echod -t accepts the files" cexec echod -t
	check "$scenario: systemctl daemon-reload && systemctl restart echod.socket" \
		cexec sh -c 'systemctl daemon-reload && systemctl restart echod.socket'
	cexec systemctl cat echod.socket echod.service >>"$LOG" 2>&1
	check "$scenario: the generator lets echod.service read the clock (ProtectClock=no)" \
		test "$(cexec systemctl show -P ProtectClock echod.service)" = no
	check "$scenario: systemctl stop echod.service" cexec systemctl stop echod.service
	cursor=$(journal_cursor)
	check "$scenario: echo-client --stamp session on 127.0.0.1 and ::1 port 862" \
		stamp_session_ok
	check "$scenario: the session started echod.service (socket activation)" \
		unit_state echod.service active
	check "$scenario: echod serves port 862 as a stamp listener passed by systemd" \
		journal_since_has "$cursor" "stamp [::]:862 passed by systemd"
	check "$scenario: echodctl stats counts the test packets reflected" \
		cexec sh -c 'echodctl stats | grep -E "^total.stamp_reflected=([89]|[1-9][0-9]+)$"'
	check "$scenario: TCP and UDP echo on port 7 meanwhile" tcp_udp_ok 127.0.0.1 7
	check "$scenario: 70-stamp.conf removed, daemon-reload, restart echod.socket" \
		cexec sh -c 'rm /etc/echod/conf.d/70-stamp.conf && systemctl daemon-reload &&
		systemctl restart echod.socket'
	check "$scenario: nothing listens on port 862 afterwards" nothing_on_port 862
	answered="-"
	step_end "echo-client --stamp" "-"
}

# A listener set is a list of PROTO/ADDRESS/PORT words, ADDRESS "any" where the configuration
# names none (every IPv4 and IPv6 address), and unix/PATH: tcp/any/7 udp/127.0.0.1/7
# tcp/::/7010 unix//run/echod/echo.sock. Probes and ss see only tcp and udp.

# The listeners block of echod.conf(5) for a set.
listeners_block() {
	local e proto addr port i=0
	printf 'listeners = (\n'
	for e in "$@"; do
		IFS=/ read -r proto addr port <<<"$e"
		i=$((i + 1))
		if [ "$proto" = unix ]; then
			printf '\t{ protocol = "unix"; path = "%s";' "${e#unix/}"
		else
			printf '\t{ protocol = "%s"; port = %s;' "$proto" "$port"
			[ "$addr" = any ] || printf ' address = "%s";' "$addr"
		fi
		if [ "$i" -lt $# ]; then printf ' },\n'; else printf ' }\n'; fi
	done
	printf ');\n'
}

# Replace the listeners of the installed echod.conf by a set.
set_listeners() {
	listeners_block "$@" >"$root/root/e2e/listeners"
	# shellcheck disable=SC2016 # Perl's variables, not the shell's
	cexec perl -0pi -e 'BEGIN { open(my $f, "<", "/root/e2e/listeners") or die "$!\n";
		local $/; $new = <$f>; }
		s/^listeners = \(.*?^\);\n/$new/ms or die "no listeners block\n";' "$CONF" &&
		cexec cat "$CONF" | sed -n '/^listeners = (/,/^);/p'
}

# Does a listener of the set serve PROTO ADDRESS PORT?
spec_serves() {
	local proto=$1 addr=$2 port=$3 e p a n
	shift 3
	for e in "$@"; do
		IFS=/ read -r p a n <<<"$e"
		if [ "$p" != "$proto" ] || [ "$n" != "$port" ]; then continue; fi
		case $a in
		any | "$addr") return 0 ;;
		::) [[ $addr == *:* ]] && return 0 ;;
		0.0.0.0) [[ $addr != *:* ]] && return 0 ;;
		esac
	done
	return 1
}

probe_all() {
	local -a args=()
	local proto port addr
	for proto in tcp udp; do
		for port in $PROBE_PORTS; do
			for addr in $PROBE_ADDRS; do args+=("$proto" "$addr" "$port"); done
		done
	done
	nprobes=$((${#args[@]} / 3))
	cexec perl /root/e2e/probe.pl "${args[@]}" >"$run_dir/probe.out" 2>>"$LOG"
}

# What answered, compactly: T7{1,6,2} = TCP port 7 on 127.0.0.1, ::1 and 127.0.0.2.
answered_compact() {
	sort -k1,1 -k3,3n "$run_dir/probe.out" | awk '$4 == "answered" {
		k = toupper(substr($1, 1, 1)) $3
		if (!(k in s)) { keys[n++] = k; s[k] = "" }
		s[k] = s[k] ($2 == "127.0.0.1" ? "1" : $2 == "::1" ? "6" : "2")
	} END {
		for (i = 0; i < n; i++) {
			v = ""
			for (j = 1; j <= 3; j++) {
				c = substr("162", j, 1)
				if (index(s[keys[i]], c)) v = v (v == "" ? "" : ",") c
			}
			printf "%s%s{%s}", (i ? " " : ""), keys[i], v
		}
		if (n == 0) printf "nothing"
	}'
}

# judge STEP SET...: every probe answers exactly when a listener of the set covers it.
judge() {
	local step=$1 proto addr port verdict n w
	local -a wrong=()
	shift
	probe_all
	while read -r proto addr port verdict; do
		if spec_serves "$proto" "$addr" "$port" "$@"; then
			[ "$verdict" = answered ] ||
				wrong+=("$proto $addr $port $verdict (configured)")
		elif [ "$verdict" = answered ]; then
			wrong+=("$proto $addr $port answered (not configured)")
		fi
	done <"$run_dir/probe.out"
	n=$(wc -l <"$run_dir/probe.out")
	[ "$n" -eq "$nprobes" ] || wrong+=("$n probe results for $nprobes probes")
	answered=$(answered_compact)
	log "--- $scenario, $step: probes (configured: $*)"
	sort -k1,1 -k3,3n "$run_dir/probe.out" >>"$LOG"
	if [ ${#wrong[@]} -eq 0 ]; then
		pass "$scenario, $step: answered $answered"
	else
		for w in "${wrong[@]}"; do log "  wrong: $w"; done
		fail "$scenario, $step: answered $answered; wrong: ${wrong[*]}"
	fi
}

# ss -lntu inside the container lists exactly the sockets of the set, as the generator
# derives them (an explicit "::" makes every address-less listener two sockets).
ss_exact() {
	local e proto addr port split=0 want got
	for e in "$@"; do [[ $e == */::/* ]] && split=1; done
	want=$(for e in "$@"; do
		IFS=/ read -r proto addr port <<<"$e"
		[ "$proto" = unix ] && continue
		case $addr in
		any)
			if [ "$split" = 1 ]; then
				echo "$proto 0.0.0.0:$port"
				echo "$proto [::]:$port"
			else
				echo "$proto *:$port"
			fi ;;
		*:*) echo "$proto [$addr]:$port" ;;
		*) echo "$proto $addr:$port" ;;
		esac
	done | sort)
	got=$(cexec ss -Hlntu | awk '{ print $1, $5 }' | sort)
	printf 'configured:\n%s\nss -lntu:\n%s\n' "$want" "$got"
	[ "$want" = "$got" ]
}

journal_cursor() { cexec journalctl -q -n 1 -o export | sed -n 's/^__CURSOR=//p'; }
journal_since_has() {
	cexec journalctl -q --no-pager -o cat --after-cursor="$1" -u echod.service | grep -F -- "$2"
}

# What echodctl (run by ExecReload=) wrote since a cursor. Its lines reach journald through
# a stream and systemd's own "Reloaded"/"Reload failed" through another: wait for that one,
# then until echodctl's lines stop growing.
echodctl_report() {
	local i all prev=x cur=
	for i in $(seq 40); do
		all=$(cexec journalctl -q --no-pager -o short --after-cursor="$1" -u echod.service)
		cur=$(sed -n 's/^.* echodctl\[[0-9]*\]: //p' <<<"$all")
		grep -qE 'Reloaded |Reload failed ' <<<"$all" && [ "$cur" = "$prev" ] && break
		prev=$cur
		sleep 0.25
	done
	printf '%s\n' "$cur"
}

# step_begin / step_end STEP EXIT: one row of the summary table per step; its verdict is
# whether every check of the step passed.
step_begin() { step_failed=$failed; }
step_end() {
	local verdict=ok
	[ "$failed" -eq "$step_failed" ] || verdict=FAIL
	rows+=("$(printf '%-24s %-28s %-5s %-5s %s' "$scenario" "$1" "$2" "$verdict" "$answered")")
}

# apply_reload ok|fail TEXT SET...: systemctl reload echod succeeds (or fails), echodctl's
# report holds TEXT (if not empty), echod keeps its process, echod.socket stays active,
# and what answers is the set.
apply_reload() {
	local expect=$1 text=$2 pid cursor out rc report
	shift 2
	step_begin
	pid=$(main_pid)
	cursor=$(journal_cursor)
	out=$(cexec systemctl reload echod.service 2>&1)
	rc=$?
	report=$(echodctl_report "$cursor")
	log "--- $scenario: systemctl reload echod: exit $rc"
	log "$out"
	log "--- echodctl's report (journal):"
	log "$report"
	cexec journalctl -q --no-pager -o short-monotonic --after-cursor="$cursor" \
		-u echod.service >>"$LOG" 2>&1
	reports+=("$scenario: systemctl reload echod, exit $rc" \
		"$(printf '%s\n%s\n' "$out" "$report" | sed '/^$/d; s/^/    /')")
	if [ "$expect" = ok ]; then
		check "$scenario: systemctl reload echod exits 0" test "$rc" -eq 0
	else
		check "$scenario: systemctl reload echod fails" test "$rc" -ne 0
	fi
	[ -z "$text" ] ||
		check "$scenario: the reload report says: $text" grep -qF -- "$text" <<<"$report"
	check "$scenario: the reload kept echod's main process" test "$(main_pid)" = "$pid"
	check "$scenario: echod.socket still active after the reload" \
		unit_state echod.socket active
	cexec echodctl status >>"$LOG" 2>&1
	judge "after systemctl reload" "$@"
	step_end "systemctl reload echod" "$rc"
}

# restart_fails TEXT: systemctl restart echod fails once, with TEXT in the journal; no
# restart loop, and echod.socket stays active. Not probed: a probe would start echod again.
restart_fails() {
	local rc cursor
	step_begin
	cursor=$(journal_cursor)
	cexec systemctl restart echod.service >>"$LOG" 2>&1
	rc=$?
	check "$scenario: systemctl restart echod fails" test "$rc" -ne 0
	check "$scenario: echod.service failed, not restarting" unit_state echod.service failed
	check "$scenario: no automatic restart (NRestarts=0)" \
		test "$(cexec systemctl show -P NRestarts echod.service)" = 0
	check "$scenario: echod.socket still active" unit_state echod.socket active
	check "$scenario: the journal says: $1" journal_since_has "$cursor" "$1"
	cexec journalctl -q --no-pager -o short-monotonic --after-cursor="$cursor" \
		-u echod.service >>"$LOG" 2>&1
	answered="not probed (would start echod); exit status $(cexec systemctl show -P \
		ExecMainStatus echod.service)"
	step_end "systemctl restart echod" "$rc"
}

apply_restart() {
	local rc
	step_begin
	cexec systemctl restart echod.service >>"$LOG" 2>&1
	rc=$?
	check "$scenario: systemctl restart echod" test "$rc" -eq 0
	judge "after systemctl restart echod" "$@"
	step_end "systemctl restart echod" "$rc"
}

# The full apply: the generator rederives echod.socket, systemd rebinds.
apply_rebind() {
	local rc
	step_begin
	cexec sh -c 'systemctl daemon-reload && systemctl restart echod.socket' >>"$LOG" 2>&1
	rc=$?
	check "$scenario: systemctl daemon-reload && systemctl restart echod.socket" \
		test "$rc" -eq 0
	cexec systemctl start echod.service >>"$LOG" 2>&1
	cexec systemctl cat echod.socket >>"$LOG" 2>&1
	judge "after daemon-reload + restart echod.socket" "$@"
	check "$scenario: ss -lntu shows exactly the configured sockets" ss_exact "$@"
	step_end "daemon-reload+restart socket" "$rc"
}

# An edit, as the admin makes it: the new listeners, and echod -t before applying.
edit() {
	scenario=$1
	shift
	note "scenario: $scenario"
	check "$scenario: listeners written to $CONF" set_listeners "$@"
	check "$scenario: echod -t accepts the files" cexec echod -t
}

scenarios() {
	local -a set=('tcp/any/7' 'udp/any/7' 'tcp/any/7007' 'udp/any/7007')
	local -a narrow=('tcp/127.0.0.1/7' 'udp/127.0.0.1/7' 'tcp/any/7007' 'udp/any/7007')
	local -a priv=("${set[@]}" 'tcp/any/9' 'udp/any/9')
	local -a dropin=('tcp/::/7010' 'udp/127.0.0.1/7010')
	local -a final=('tcp/any/7' 'udp/any/7' "tcp/any/$RELOAD_PORT")
	local rebind='systemctl daemon-reload && systemctl restart echod.socket'

	edit "add port 7007" "${set[@]}"
	apply_reload ok "" "${set[@]}"
	apply_restart "${set[@]}"
	apply_rebind "${set[@]}"

	edit "narrow 7 to 127.0.0.1" "${narrow[@]}"
	apply_reload ok "" "${narrow[@]}"
	apply_restart "${narrow[@]}"
	apply_rebind "${narrow[@]}"

	# systemd now holds only 127.0.0.1:7: every address on port 7 needs it again.
	edit "widen 7 again" "${set[@]}"
	apply_reload fail "$rebind" "${narrow[@]}"
	# Restarting echod instead cannot open [::]:7 either: it serves what systemd passes
	# (127.0.0.1 on port 7) rather than taking every port dark, and says what is missing.
	local cursor
	cursor=$(journal_cursor)
	apply_restart "${narrow[@]}"
	check "$scenario: the journal says what is not open and how to open it" \
		journal_since_has "$cursor" "not open (echodctl status); serving the rest until: $rebind"
	apply_rebind "${set[@]}"
	apply_restart "${set[@]}"

	# The service holds no privilege: port 9 needs systemd, and the reload says so.
	edit "add port 9" "${priv[@]}"
	apply_reload fail "$rebind" "${set[@]}"
	apply_rebind "${priv[@]}"
	apply_restart "${priv[@]}"

	edit "remove port 9" "${set[@]}"
	apply_reload ok "" "${set[@]}"
	apply_restart "${set[@]}"
	apply_rebind "${set[@]}"

	# An explicit "::" in a drop-in: IPv6 only, so the generator splits the wildcards.
	scenario="conf.d drop-in"
	note "scenario: $scenario"
	listeners_block "${dropin[@]}" >"$root/root/e2e/50-e2e.conf"
	check "$scenario: /etc/echod/conf.d/50-e2e.conf written" cexec sh -c \
		'mkdir -p /etc/echod/conf.d && cp /root/e2e/50-e2e.conf /etc/echod/conf.d/'
	check "$scenario: echod -t accepts the files" cexec echod -t
	apply_reload ok "" "${set[@]}" "${dropin[@]}"
	apply_restart "${set[@]}" "${dropin[@]}"
	apply_rebind "${set[@]}" "${dropin[@]}"

	unix_listener "${#set[@]}" "${set[@]}" "${dropin[@]}"

	bad_edit "${set[@]}" "${dropin[@]}" "unix/$UNIX_PATH"

	edit "conf.d removed, 7007 tcp" "${final[@]}"
	check "$scenario: /etc/echod/conf.d/50-e2e.conf removed" \
		cexec rm /etc/echod/conf.d/50-e2e.conf
	apply_reload ok "" "${final[@]}"
	apply_rebind "${final[@]}"
}

# A unix listener: echod binds it on reload, echod.socket after the full apply (mode 0666);
# the path outlives a stop of the service (RuntimeDirectoryPreserve=yes), and a client then
# starts echod again through it. Arguments: N, the N listeners of echod.conf, then those of
# the conf.d drop-in (left as it is).
unix_listener() {
	local n=$1
	shift
	local -a main=("${@:1:n}" "unix/$UNIX_PATH")
	edit "unix listener" "${main[@]}"
	apply_reload ok "" "$@"
	check "$scenario: echo over $UNIX_PATH after the reload" unix_echo_ok reload
	apply_rebind "$@"
	check "$scenario: echo over $UNIX_PATH after the full apply" unix_echo_ok rebind
	check "$scenario: $UNIX_PATH has mode 0666" \
		test "$(cexec stat -c %a "$UNIX_PATH")" = 666
	check "$scenario: echodctl status shows it" cexec sh -c "echodctl status | grep -F unix"
	step_begin
	check "$scenario: systemctl stop echod.service (echod.socket stays)" \
		cexec systemctl stop echod.service
	check "$scenario: $UNIX_PATH still there with echod stopped" cexec test -S "$UNIX_PATH"
	check "$scenario: a client on $UNIX_PATH starts echod again" unix_echo_ok activation
	check "$scenario: echod.service active again" unit_state echod.service active
	judge "after stop and activation over unix" "$@"
	step_end "stop echod, unix client" "-"
}

unix_echo_ok() {
	payload_ok "unix-$1" udp.in timeout 20 socat -t 5 - "UNIX-CONNECT:$UNIX_PATH"
}

# A bad edit: the reload fails naming the file and line and the old set stays served; a
# restart fails once, without a restart loop, and echod.socket stays active; the fixed file
# starts cleanly.
bad_edit() {
	local line out rc
	scenario="bad edit"
	note "scenario: $scenario"
	cexec cp "$CONF" /root/e2e/good.conf
	line=$(($(cexec cat "$CONF" | wc -l) + 1))
	check "$scenario: unknown key added at $CONF:$line" \
		cexec sh -c "echo 'listen = 7;' >>$CONF"
	out=$(cexec echod -t 2>&1)
	rc=$?
	log "$out"
	check "$scenario: echod -t exits 78" test "$rc" -eq 78
	check "$scenario: echod -t names $CONF:$line" grep -qF "$CONF:$line:" <<<"$out"
	apply_reload fail "$CONF:$line:" "$@"

	restart_fails "$CONF:$line:"

	check "$scenario: the file fixed" cexec cp /root/e2e/good.conf "$CONF"
	step_begin
	cexec systemctl restart echod.service >>"$LOG" 2>&1
	rc=$?
	check "$scenario: the fixed file starts cleanly (systemctl restart echod)" \
		test "$rc" -eq 0
	judge "after the fix and systemctl restart echod" "$@"
	step_end "fixed, restart echod" "$rc"
}

print_table() {
	printf '\n%-24s %-28s %-5s %-5s %s\n' SCENARIO STEP EXIT CHECK ANSWERED
	printf '%s\n' "${rows[@]}"
	printf '(T/U = TCP/UDP and the port; 1 = 127.0.0.1, 6 = ::1, 2 = 127.0.0.2)\n'
	printf '\nWhat systemctl reload echod printed, then what echodctl reported (journal):\n'
	printf '%s\n' "${reports[@]}"
}

# --- main ------------------------------------------------------------------------------------

main() {
	local deb='' changes='' debname

	[ "$(id -u)" -eq 0 ] || { echo "systemd-e2e: needs root (debootstrap, mounts, nspawn)"; exit 77; }
	: >"$LOG"
	mkdir -p "$CACHE"
	exec 9>"$CACHE/lock"
	flock -n 9 || { note "waiting for another run holding $CACHE/lock"; flock 9; }
	run_dir=$(mktemp -d "$CACHE/run.XXXXXX")
	# The package's tests run programs as nobody from the build tree inside it.
	chmod 0755 "$run_dir"
	trap teardown EXIT
	trap 'exit 130' INT TERM
	MIRROR=${ECHOD_E2E_MIRROR:-$(host_mirror)}
	note "source $SRCDIR, cache $CACHE, log $LOG"

	install_host_packages || fatal "host packages installed (${HOST_PACKAGES[*]} + build deps)"
	pass "host packages installed"

	local t=$SECONDS
	if [ -n "${ECHOD_E2E_DEB:-}" ]; then
		deb=$ECHOD_E2E_DEB
		note "using $deb"
	else
		build_deb || fatal "dpkg-buildpackage -us -uc -b builds echod"
		pass "dpkg-buildpackage -us -uc -b builds echod ($((SECONDS - t)) s)"
		check "lintian on the .changes: 0 errors, 0 warnings" lintian_clean
		grep '^[A-Z]: ' "$run_dir/lintian.tags" | while read -r tag; do note "lintian $tag"; done
	fi
	check "package ships /usr/sbin/echod" deb_has /usr/sbin/echod
	check "package ships /etc/echod/echod.conf as a conffile" deb_conffile /etc/echod/echod.conf
	check "package ships echod.socket and echod.service in /lib/systemd/system" \
		deb_has_units
	check "package ships /usr/sbin/echodctl" deb_has /usr/sbin/echodctl
	check "package ships the generator in /lib/systemd/system-generators" \
		deb_has /lib/systemd/system-generators/echod-socket-generator
	check "package ships README.Debian" deb_has '/usr/share/doc/echod/README\.Debian\(\.gz\)\?'

	t=$SECONDS
	make_base || fatal "cached Debian $SUITE base root filesystem"
	mount_overlay || fatal "overlay over the base root filesystem"
	write_probes
	# debian/tests, for autopkgtest against the installed package.
	tar -C "$SRCDIR" --exclude=.git -cf - debian | tar -xf - -C "$root/root/e2e"
	debname=$(basename "$deb")
	cp "$deb" "$root/root/e2e/$debname"
	download_deps "$debname" >>"$LOG" 2>&1 ||
		fatal "dependencies of $debname downloaded from $MIRROR"
	pass "root filesystem ready, dependencies downloaded ($((SECONDS - t)) s)"

	t=$SECONDS
	boot_container >>"$LOG" 2>&1 || { cat "$run_dir/console.log" >>"$LOG"; fatal "container boots"; }
	pass "container boots with systemd as PID 1 ($((SECONDS - t)) s)"

	check "apt-get install ./$debname" cexec env DEBIAN_FRONTEND=noninteractive \
		apt-get install -y -q "/root/e2e/$debname"
	# Nothing listens until the admin asks (xinetd and openbsd-inetd ship echo disabled).
	scenario="after apt install"
	step_begin
	check "echod.socket is not enabled after install" unit_enabled echod.socket disabled
	check "echod.socket is not active after install" unit_state echod.socket inactive
	check "nothing listens on port 7 after install (ss -lntu)" nothing_on_port 7
	judge "nothing answers"
	step_end "apt-get install" "-"
	# Debian's own as-installed tests (debian/tests), socket activation included: systemd is
	# PID 1 here. They leave echod.socket disabled and inactive and echod.conf as shipped.
	check "autopkgtest dependencies installed (offline)" cexec env DEBIAN_FRONTEND=noninteractive \
		apt-get install -y -q --no-install-recommends autopkgtest dpkg-dev python3 man-db
	check "autopkgtest -- null in the booted container: every test passes" \
		timeout 600 nsenter -t "$cpid" -a env -i PATH=$CONTAINER_PATH LANG=C.UTF-8 HOME=/root \
		autopkgtest --no-built-binaries --user=nobody "/root/e2e/$debname" /root/e2e/ -- null
	check "systemctl enable --now echod.socket" cexec systemctl enable --now echod.socket
	check "echod.socket is enabled" unit_enabled echod.socket enabled
	check "echod.socket is active" unit_state echod.socket active
	check "the generator wrote echod.socket's drop-in" cexec \
		test -s /run/systemd/generator/echod.socket.d/50-echod-conf.conf
	cexec systemctl cat echod.socket >>"$LOG" 2>&1
	check "echod.service is not running yet" unit_state echod.service inactive
	check "no echod process yet" no_echod_process

	check "TCP connect to port 7 on 127.0.0.1 (Net::Ping tcp)" ping_ok tcp 127.0.0.1 7
	check "TCP echo on 127.0.0.1 port 7 (Net::Ping stream)" ping_ok stream 127.0.0.1 7
	check "TCP echo on ::1 port 7 (Net::Ping stream)" ping_ok stream ::1 7
	check "UDP echo on 127.0.0.1 port 7 (Net::Ping udp)" ping_ok udp 127.0.0.1 7
	check "UDP echo on ::1 port 7 (Net::Ping udp)" ping_ok udp ::1 7
	check "TCP 256 KiB random payload via nc, 127.0.0.1, byte for byte" \
		payload_ok nc-tcp tcp.in timeout 30 nc -N -w 10 127.0.0.1 7
	check "TCP 256 KiB random payload via socat, ::1, byte for byte" \
		payload_ok socat-tcp tcp.in timeout 30 socat -t 10 -T 10 - 'TCP6:[::1]:7'
	check "UDP 8 KiB random datagram via socat, 127.0.0.1, byte for byte" \
		payload_ok socat-udp4 udp.in timeout 30 socat -b 65536 -t 2 - UDP4:127.0.0.1:7
	check "UDP 8 KiB random datagram via socat, ::1, byte for byte" \
		payload_ok socat-udp6 udp.in timeout 30 socat -b 65536 -t 2 - 'UDP6:[::1]:7'
	check "the packaged echo-client probes TCP and UDP port 7 on ::1" \
		client_ok ::1

	check "echod.service is active (socket activation)" unit_state echod.service active
	check "systemctl status echod shows the STATUS line" status_line
	check "journal has the start message (MESSAGE_ID=$MSGID_START)" journal_has "$MSGID_START"

	reload_keeps_connection
	scenarios
	metrics_scrape
	stamp_reflector

	local pid_before
	pid_before=$(main_pid)
	check "upgrade (reinstall) of ./$debname" cexec env DEBIAN_FRONTEND=noninteractive \
		apt-get install -y -q --reinstall "/root/e2e/$debname"
	# dh_installsystemd restarts the running service (and its socket) after an upgrade.
	check "upgrade restarted echod.service (active, new main PID)" \
		restarted_since "$pid_before"
	check "echod.socket is active after the upgrade" unit_state echod.socket active
	check "echod.socket is still enabled after the upgrade" unit_enabled echod.socket enabled
	check "TCP and UDP echo after the upgrade" \
		tcp_udp_ok 127.0.0.1 7
	check "the edited conffile survived the upgrade (port $RELOAD_PORT served)" \
		ping_ok stream 127.0.0.1 "$RELOAD_PORT"

	check "systemctl stop echod.socket echod.service" \
		cexec systemctl stop echod.socket echod.service
	check "echod.socket and echod.service are inactive" \
		units_inactive
	check "no echod process after stop" no_echod_process
	check "port 7 refuses TCP after stop" ping_refused tcp 127.0.0.1 7
	# An upgrade restarts only what ran: stopped units stay stopped.
	check "upgrade (reinstall) while stopped" cexec env DEBIAN_FRONTEND=noninteractive \
		apt-get install -y -q --reinstall "/root/e2e/$debname"
	check "echod.socket and echod.service stay inactive after that upgrade" units_inactive

	# Purge while the service runs: removal must stop it.
	cexec systemctl start echod.socket >>"$LOG" 2>&1
	ping_ok stream 127.0.0.1 7 >>"$LOG" 2>&1
	check "echod.service running again before purge" unit_state echod.service active
	check "apt-get purge echod" cexec env DEBIAN_FRONTEND=noninteractive \
		apt-get purge -y -q echod
	check "no echod process after purge" no_echod_process
	check "no echod unit known to systemd after purge" \
		no_unit_files
	check "no /etc/echod after purge" test ! -e "$root/etc/echod"
	check "no file named *echod* left after purge" purge_leaves_nothing
	check "port 7 refuses TCP after purge" ping_refused tcp 127.0.0.1 7

	if [ "$failed" -ne 0 ]; then
		log "--- container journal"
		cexec journalctl -b --no-pager >>"$LOG" 2>&1
		note "details in $LOG"
	fi
	print_table | tee -a "$LOG"
	note "total $((SECONDS - t0)) s"
	summary
}

main "$@"
