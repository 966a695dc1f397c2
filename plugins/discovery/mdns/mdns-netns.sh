#!/bin/sh
# An mDNS world for tests, with nothing on a real interface: a network
# namespace holding a veth pair (avahi ignores lo, and this kernel has no
# dummy links), a private D-Bus system bus on a unix socket in RUNDIR (unix
# sockets cross namespaces, so test programs reach it from outside with
# DBUS_SYSTEM_BUS_ADDRESS=unix:path=RUNDIR/system_bus_socket), and
# avahi-daemon inside the namespace. See ENVIRONMENT.md section 5.
#
#   NS=antmon-mdns-$$ mdns-netns.sh up RUNDIR          namespace, bus, avahi
#   NS=...            mdns-netns.sh avahi-stop RUNDIR  stop avahi-daemon only
#   NS=...            mdns-netns.sh avahi-start RUNDIR start it again
#   NS=...            mdns-netns.sh bus-start RUNDIR   namespace and bus, no avahi
#   NS=...            mdns-netns.sh down RUNDIR        stop everything, remove NS
set -eu
cmd=$1
D=$(cd "$2" 2>/dev/null && pwd) || D=$2
NS=${NS:?set NS to a unique namespace name, e.g. antmon-mdns-\$\$}

netns_up() {
  ip netns add "$NS"
  ip netns exec "$NS" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
  ip -n "$NS" link set lo up
  ip -n "$NS" link add am0 type veth peer name am1
  ip -n "$NS" link set am1 up
  ip -n "$NS" link set am0 multicast on up
  ip -n "$NS" addr add 10.200.0.1/24 dev am0
}

bus_start() {
  cat >"$D/dbus.conf" <<XML
<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>system</type>
  <listen>unix:path=$D/system_bus_socket</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow user="*"/> <allow own="*"/>
    <allow send_destination="*"/> <allow receive_sender="*"/>
  </policy>
</busconfig>
XML
  dbus-daemon --config-file="$D/dbus.conf" --nofork --nopidfile --nosyslog >"$D/dbus.log" 2>&1 &
  echo $! >"$D/dbus.pid"
  i=0
  until [ -S "$D/system_bus_socket" ]; do
    i=$((i + 1)); [ $i -gt 200 ] && { echo "dbus did not start" >&2; exit 1; }; sleep 0.05
  done
}

avahi_start() {
  cat >"$D/avahi-daemon.conf" <<CONF
[server]
host-name=antmon-test
use-ipv4=yes
use-ipv6=no
allow-interfaces=am0
enable-dbus=yes
disallow-other-stacks=no
ratelimit-interval-usec=1000000
ratelimit-burst=1000
[wide-area]
enable-wide-area=no
[publish]
publish-hinfo=no
publish-workstation=no
publish-aaaa-on-ipv4=no
[reflector]
enable-reflector=no
[rlimits]
CONF
  : >"$D/avahi.log"
  # A tmpfs of its own for the pid file and socket, so several test runs
  # (and any system avahi) never meet. `ip netns exec` and sh both exec, so
  # the PID recorded is avahi-daemon's.
  DBUS_SYSTEM_BUS_ADDRESS="unix:path=$D/system_bus_socket" \
  ip netns exec "$NS" sh -c "mount -t tmpfs tmpfs /run/avahi-daemon 2>/dev/null || { mkdir -p /run/avahi-daemon && mount -t tmpfs tmpfs /run/avahi-daemon; }; exec avahi-daemon -f '$D/avahi-daemon.conf' --no-drop-root --no-chroot --no-rlimits --no-proc-title" >"$D/avahi.log" 2>&1 &
  echo $! >"$D/avahi.pid"
  i=0
  until grep -q "Server startup complete" "$D/avahi.log"; do
    i=$((i + 1)); [ $i -gt 300 ] && { cat "$D/avahi.log" >&2; exit 1; }; sleep 0.05
  done
}

stop_pid() {
  f="$D/$1.pid"
  [ -f "$f" ] || return 0
  pid=$(cat "$f")
  kill "$pid" 2>/dev/null || true
  i=0
  while kill -0 "$pid" 2>/dev/null; do
    i=$((i + 1)); [ $i -gt 40 ] && { kill -9 "$pid" 2>/dev/null || true; break; }; sleep 0.05
  done
  rm -f "$f"
}

case $cmd in
up) netns_up; bus_start; avahi_start ;;
bus-start) netns_up; bus_start ;;
avahi-start) avahi_start ;;
avahi-stop) stop_pid avahi ;;
down)
  stop_pid avahi
  stop_pid dbus
  ip netns del "$NS" 2>/dev/null || true
  rm -f "$D/system_bus_socket" "$D/dbus.conf" "$D/dbus.log" "$D/avahi-daemon.conf" "$D/avahi.log"
  ;;
*) echo "usage: NS=name $0 up|bus-start|avahi-start|avahi-stop|down RUNDIR" >&2; exit 2 ;;
esac
