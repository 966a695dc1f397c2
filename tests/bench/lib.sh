# shellcheck shell=bash
# Shared by the bench-*.sh scripts (sourced, never run): checks a benchmark's
# setup before it starts, and makes every failure say what failed.
#
#   . "$(dirname "$0")/lib.sh"      # after `set -euo pipefail`
#   need_tools wrk curl node:nodejs  # TOOL or TOOL:DEBIAN_PACKAGE
#   need_exe "$build/core/antmon"
#   need_fds 1400 "1,000 fake miners' listeners plus 256 polls in flight"
#   port=$(free_port 20000 49999)    # a TCP port no socket here uses
#   step "starting the fake fleet"   # names what runs now, for the report
#   bench_log "fake fleet" "$work/fake.out"
#   bench_started "fake fleet" "$fake_pid"  # stopped (by PID) at exit
#   bench_forget "$fake_pid"         # it exited and was waited for already
#   bench_running "$fake_pid" || fail "the fake fleet exited"
#   bench_rm_at_exit "$work"
#   fail "only 3 of 1000 miners answered"
#   bench_goal poll_cpu_ms 0.31 ms '<0.35' 0.96 "previous pass"  # a GOAL line
#
# When the script exits non-zero -- `set -e` on any command, a fail(), or a
# signal -- the EXIT trap prints the last lines of every log registered, then
# the step that was running, the reason or the command that failed (when
# `set -e` stopped the script) and whether each process it started was still
# running; then it stops those processes and removes the work directories.
# Before this, a failing pipeline or `grep -q` ended a benchmark with nothing
# on stderr at all.
#
# BENCH_NAME (default: the script's file name) prefixes every message; set it
# before sourcing in a script fed to `bash -s`. BENCH_KEEP=1 keeps the work
# directories (their paths are printed).

BENCH_NAME=${BENCH_NAME:-$(basename "$0")}
BENCH_TAIL=${BENCH_TAIL:-20} # log lines shown on failure
bench_step="setting up"
bench_err_cmd=
bench_err_where=
bench_failed=
bench_logs=()  # "LABEL<TAB>FILE"
bench_procs=() # "LABEL<TAB>PID"
bench_dirs=()

# Names the step that runs from here on; a failure report starts with it.
step() {
  bench_step=$*
}

# Prints MESSAGE on stderr and exits 1 (the EXIT trap adds the context).
fail() {
  bench_failed=$*
  echo "$BENCH_NAME: $*" >&2
  exit 1
}

# Files whose last lines a failure report shows, in the order registered.
bench_log() {
  bench_logs+=("$1"$'\t'"$2")
}

# A background process this script started: reported on failure, stopped
# by its PID at exit (never by name: the machine may be shared).
bench_started() {
  bench_procs+=("$1"$'\t'"$2")
}

# PID has exited and been waited for here (a failed start that is retried):
# nothing left to stop or report.
bench_forget() {
  local i
  for i in "${!bench_procs[@]}"; do
    [ "${bench_procs[i]#*$'\t'}" = "$1" ] && unset 'bench_procs[i]'
  done
  bench_procs=(${bench_procs[@]+"${bench_procs[@]}"})
}

bench_rm_at_exit() {
  bench_dirs+=("$1")
}

# TOOL or TOOL:PACKAGE (when the Debian package is named otherwise).
need_tools() {
  local spec tool missing=()
  for spec in "$@"; do
    tool=${spec%%:*}
    command -v "$tool" >/dev/null 2>&1 || missing+=("$tool (apt-get install ${spec#*:})")
  done
  [ ${#missing[@]} -eq 0 ] ||
    fail "missing ${missing[*]}; \`make deps-bench\` installs what the benchmarks use"
}

need_exe() {
  local exe
  for exe in "$@"; do
    [ -x "$exe" ] || fail "missing $exe: build first (make build, or ninja -C on that build directory)"
  done
}

# The soft limit on open descriptors must cover NEED (WHAT says what they
# are for): raised when it is lower and the hard limit allows, or a failure
# naming the need -- an fd-starved fake fleet or daemon fails much later,
# mid-run, with errors that do not mention the limit. Child processes
# (fake fleet, daemon, namespaces) inherit the raised limit.
need_fds() {
  local need=$1 what=$2 soft hard
  soft=$(ulimit -Sn)
  hard=$(ulimit -Hn)
  [ "$soft" = unlimited ] && return 0
  [ "$soft" -ge "$need" ] && return 0
  if [ "$hard" = unlimited ] || [ "$hard" -ge "$need" ]; then
    ulimit -Sn "$need" || fail "could not raise the open-file limit from $soft to $need"
    return 0
  fi
  fail "needs $need open descriptors ($what) but the hard limit is $hard (soft $soft):" \
    "raise it (as root: ulimit -Hn $need, or LimitNOFILE= / limits.conf) or run a smaller size"
}

# True when any TCP socket in this network namespace has local port PORT, on
# any address: a listener on 0.0.0.0 or :: clashes with every loopback
# address, and one on the exact address with that address. /proc/net needs
# no tool; ports there are upper-case hex.
port_in_use() {
  local hex
  hex=$(printf '%04X' "$1")
  awk -v p="$hex" 'FNR > 1 { split($2, a, ":"); if (a[2] == p) found = 1 } END { exit !found }' \
    /proc/net/tcp /proc/net/tcp6 2>/dev/null
}

# Prints a random TCP port in [LO, HI] that no socket here uses. Ports in the
# kernel's ephemeral range (ip_local_port_range) are skipped when the range
# leaves others: outgoing connections take ports from there at any moment.
free_port() {
  local lo=$1 hi=$2 eph_lo=0 eph_hi=0 port _
  read -r eph_lo eph_hi </proc/sys/net/ipv4/ip_local_port_range 2>/dev/null || true
  if [ "$eph_lo" -gt "$lo" ] && [ "$eph_lo" -le "$hi" ] && [ "$eph_hi" -ge "$hi" ]; then
    hi=$((eph_lo - 1)) # what is left below the ephemeral range
  fi
  for _ in $(seq 1 100); do
    port=$((lo + (RANDOM * 32768 + RANDOM) % (hi - lo + 1)))
    port_in_use "$port" || { echo "$port"; return 0; }
  done
  fail "no free TCP port among 100 tried in $lo-$hi"
}

# Prints the GOAL line run-all.sh gathers into its goals table:
#   bench_goal NAME VALUE UNIT GOAL [REF [REF_NAME]]
# GOAL is an operator and a number ('<10', '>=50000': quote it); REF is the
# same figure of a reference run in this invocation, or - (the default).
bench_goal() {
  printf 'GOAL name=%s value=%s unit=%s goal=%s ref=%s ref_name=%s\n' \
    "$1" "$2" "$3" "$4" "${5:--}" "${6:--}"
}

# Records where `set -e` stopped the script (the EXIT trap prints it). Runs
# in subshells too (set -E), where it changes nothing: it only records.
_bench_on_err() {
  bench_err_cmd=$1
  bench_err_where="${BASH_SOURCE[1]:-$BENCH_NAME} line $2"
}

# Last lines of FILE, indented, or a note that there are none.
_bench_tail() {
  local label=$1 file=$2
  if [ ! -e "$file" ]; then
    echo "--- $label: $file was never written" >&2
  elif [ ! -s "$file" ]; then
    echo "--- $label: $file is empty" >&2
  else
    echo "--- $label, last $BENCH_TAIL lines ($file):" >&2
    tail -n "$BENCH_TAIL" "$file" | sed 's/^/    /' >&2
  fi
}

# The logs first and the verdict last: whoever reads only the end of stderr
# (run-all.sh's summary, a CI log's tail) sees why.
_bench_report() {
  local status=$1 entry label pid why cmd
  for entry in ${bench_logs[@]+"${bench_logs[@]}"}; do
    _bench_tail "${entry%%$'\t'*}" "${entry#*$'\t'}"
  done
  echo "$BENCH_NAME: FAILED (exit status $status) during: $bench_step" >&2
  if [ -n "$bench_failed" ]; then
    echo "  reason: $bench_failed" >&2
  elif [ -n "$bench_err_cmd" ]; then
    # The first line only: a command with a here-document spans pages.
    cmd=${bench_err_cmd%%$'\n'*}
    [ "$cmd" = "$bench_err_cmd" ] || cmd="$cmd ..."
    echo "  command that failed ($bench_err_where): $cmd" >&2
  elif [ "$status" -gt 128 ]; then
    echo "  ended by signal $((status - 128))" >&2
  fi
  for entry in ${bench_procs[@]+"${bench_procs[@]}"}; do
    label=${entry%%$'\t'*} pid=${entry#*$'\t'}
    if bench_running "$pid"; then
      echo "  $label (pid $pid) was still running (stopped now)" >&2
    else
      why=0
      wait "$pid" 2>/dev/null || why=$?
      echo "  $label (pid $pid) had already exited, status $why" >&2
    fi
  done
}

# True while PID is a live child of this shell. Once a child has exited
# and been reaped its PID may be reused by anyone's process: the parent check
# keeps the stop below from ever signalling a process we did not start.
bench_running() {
  local stat state ppid _
  stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
  read -r state ppid _ <<<"${stat##*) }" # after "(comm) ", which may hold spaces
  [ "$ppid" = "$BASHPID" ] && [ "$state" != Z ]
}

# Stops a process we started: TERM, up to 10 s to exit, then KILL.
_bench_stop() {
  local pid=$1 _
  bench_running "$pid" || { wait "$pid" 2>/dev/null; return 0; }
  kill -TERM "$pid" 2>/dev/null || return 0
  for _ in $(seq 1 100); do
    bench_running "$pid" || break
    sleep 0.1
  done
  bench_running "$pid" && kill -KILL "$pid" 2>/dev/null
  wait "$pid" 2>/dev/null || true
}

_bench_on_exit() {
  local status=$1 entry i dir
  set +e # a failure while cleaning up must not hide the report or the status
  trap - ERR
  [ "$status" -eq 0 ] || _bench_report "$status"
  for ((i = ${#bench_procs[@]} - 1; i >= 0; i--)); do # last started, first stopped
    entry=${bench_procs[i]}
    _bench_stop "${entry#*$'\t'}"
  done
  for dir in ${bench_dirs[@]+"${bench_dirs[@]}"}; do
    if [ "${BENCH_KEEP:-0}" = 1 ]; then
      echo "$BENCH_NAME: kept $dir (BENCH_KEEP=1)" >&2
    else
      rm -rf "$dir"
    fi
  done
  exit "$status"
}

set -E # the ERR trap in functions and subshells too
trap '_bench_on_err "$BASH_COMMAND" "$LINENO"' ERR
trap '_bench_on_exit $?' EXIT
# A signal ends the script through the EXIT trap above, with 128+N.
trap 'exit 129' HUP
trap 'exit 130' INT
trap 'exit 143' TERM
