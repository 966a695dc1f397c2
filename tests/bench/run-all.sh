#!/usr/bin/env bash
# `make bench`: runs every benchmark script in tests/bench/ (bench-*.sh) in
# name order against the build directory given, printing each one's table,
# then how long each took and one table of every goal they measured.
# Benchmarks only use loopback addresses or network namespaces they create.
#
# Each script's stderr is shown as it runs and kept, so that the summary at
# the end can repeat, for every benchmark that failed, its exit status and
# the last lines it wrote there: the reason is otherwise scrolled away among
# the other tables (or, before lib.sh, was never printed at all).
#
# Goals: a benchmark prints, on its stdout, one line per figure that has a
# goal (lib.sh's bench_goal prints it):
#   GOAL name=<id> value=<number> unit=<unit> goal=<op><number> ref=<number or -> ref_name=<text>
# <op> is <, <=, > or >=, and the number may be the word ref (at most the
# reference: goal=<=ref); ref is the same figure of a reference run in the
# same invocation (nmap, the previous pass), "-" when there is none. The
# goals table at the end has every such line of every script: the value,
# the target, whether it is met, the reference and value/reference.
set -u
BUILD=$(cd "${1:-build}" && pwd) || exit 2
cd "$(dirname "$0")" || exit 2
TAIL=15 # lines of a failed benchmark's stderr repeated in the summary
BUDGET_S=1200 # the whole run should finish within 20 minutes
keep=$(mktemp -d)
trap 'rm -rf "$keep"' EXIT
mkdir "$keep/err" "$keep/out"

failed=()
timings=() # "SCRIPT<TAB>SECONDS<TAB>STATUS"
ran=0
t_all=$EPOCHREALTIME
for script in bench-*.sh; do
  [ -e "$script" ] || continue
  ran=$((ran + 1))
  echo "== $script"
  # stdout through one tee (to the terminal and a file, for the goals);
  # stderr through another (to the terminal and a file, for the failure
  # summary). `|| status=$?` keeps the script's own status (a tee's is 0
  # unless its write fails), as pipefail makes it the pipeline's.
  status=0
  t0=$EPOCHREALTIME
  (
    set -o pipefail
    { ./"$script" "$BUILD" 2>&1 1>&3 3>&- | tee "$keep/err/$script" >&2 3>&-; } 3>&1 |
      tee "$keep/out/$script"
  ) || status=$?
  took=$(awk -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.0f", b - a }')
  timings+=("$script"$'\t'"$took"$'\t'"$status")
  if [ "$status" -ne 0 ]; then
    failed+=("$script:$status")
    echo "$script FAILED (exit status $status): the reason is repeated at the end" >&2
  fi
  echo "== $script took $took s"
  echo
done
total=$(awk -v a="$t_all" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.0f", b - a }')

# How long each benchmark took: the whole run has a budget (BUDGET_S).
echo "== time per benchmark"
echo "| benchmark | seconds | result |"
echo "|---|---|---|"
for entry in ${timings[@]+"${timings[@]}"}; do
  IFS=$'\t' read -r script took status <<<"$entry"
  printf '| %s | %s | %s |\n' "$script" "$took" "$([ "$status" = 0 ] && echo ok || echo "FAILED ($status)")"
done
printf '| total | %s (%dm%02ds) | %s |\n' "$total" $((total / 60)) $((total % 60)) \
  "$([ "$total" -le "$BUDGET_S" ] && echo "within $((BUDGET_S / 60)) min" || echo "OVER $((BUDGET_S / 60)) min")"
echo

# Every GOAL line, in the order printed, as one table. A line that does not
# parse is listed as such rather than dropped.
echo "== goals"
cat "$keep/out/"* 2>/dev/null | awk '
  function num(s) { return s ~ /^-?[0-9]+(\.[0-9]+)?([eE][-+]?[0-9]+)?$/ }
  /^GOAL / {
    delete f
    name = ""; rest = $0; sub(/^GOAL +/, "", rest)
    # ref_name= takes the rest of the line (it may hold spaces).
    refname = "-"
    if (match(rest, / ref_name=/)) { refname = substr(rest, RSTART + 10); rest = substr(rest, 1, RSTART - 1) }
    n = split(rest, kv, / +/)
    for (i = 1; i <= n; i++) { eq = index(kv[i], "="); if (eq > 1) f[substr(kv[i], 1, eq - 1)] = substr(kv[i], eq + 1) }
    op = f["goal"]; target = op; sub(/^[<>]=?/, "", target); op = substr(op, 1, length(op) - length(target))
    # goal=<=ref: the target is the reference figure itself.
    if (target == "ref") target = f["ref"]
    if (f["name"] == "" || !num(f["value"]) || op == "" || !num(target)) {
      bad[++nbad] = $0; next
    }
    v = f["value"] + 0; t = target + 0
    met = (op == "<") ? v < t : (op == "<=") ? v <= t : (op == ">") ? v > t : v >= t
    ref = ("ref" in f) ? f["ref"] : "-"
    ratio = (num(ref) && ref + 0 != 0) ? sprintf("%.2fx", v / ref) : "-"
    refcell = num(ref) ? ref " (" refname ")" : "-"
    rows[++nrows] = sprintf("| %s | %s %s | %s %s %s | %s | %s | %s |", f["name"], f["value"], f["unit"],
      op, target, f["unit"], met ? "yes" : "NO", refcell, ratio)
    nmet += met
  }
  END {
    print "| goal | value | target | met | reference | ratio |"
    print "|---|---|---|---|---|---|"
    for (i = 1; i <= nrows; i++) print rows[i]
    printf "%d of %d goals met\n", nmet, nrows
    for (i = 1; i <= nbad; i++) print "unreadable GOAL line: " bad[i]
  }'
echo

if [ ${#failed[@]} -eq 0 ]; then
  echo "== all $ran benchmarks ran in $total s"
  exit 0
fi
{
  echo "== ${#failed[@]} of $ran benchmarks FAILED:"
  for entry in "${failed[@]}"; do
    script=${entry%:*} status=${entry##*:}
    how="exit status $status"
    [ "$status" -gt 128 ] && how="$how (killed by signal $((status - 128)): $(kill -l "$((status - 128))" 2>/dev/null))"
    echo "-- $script: $how; last lines of its stderr:"
    if [ -s "$keep/err/$script" ]; then
      tail -n "$TAIL" "$keep/err/$script" | sed 's/^/   /'
    else
      echo "   (nothing: it wrote no stderr at all)"
    fi
  done
} >&2
exit 1
