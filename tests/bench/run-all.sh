#!/usr/bin/env bash
# `make bench`: runs every benchmark script in tests/bench/ (bench-*.sh) in
# name order against the build directory given, printing each one's table.
# Benchmarks only use loopback addresses or network namespaces they create.
#
# Each script's stderr is shown as it runs and kept, so that the summary at
# the end can repeat, for every benchmark that failed, its exit status and
# the last lines it wrote there: the reason is otherwise scrolled away among
# the other tables (or, before lib.sh, was never printed at all).
set -u
BUILD=$(cd "${1:-build}" && pwd) || exit 2
cd "$(dirname "$0")" || exit 2
TAIL=15 # lines of a failed benchmark's stderr repeated in the summary
errs=$(mktemp -d)
trap 'rm -rf "$errs"' EXIT

failed=()
ran=0
for script in bench-*.sh; do
  [ -e "$script" ] || continue
  ran=$((ran + 1))
  echo "== $script"
  # stdout straight through; stderr through tee, to the terminal and a file.
  # `|| status=$?` keeps the script's own status (tee's is 0 unless its
  # write fails), as pipefail makes it the pipeline's.
  status=0
  (
    set -o pipefail
    { ./"$script" "$BUILD" 2>&1 1>&3 3>&- | tee "$errs/$script" >&2 3>&-; } 3>&1
  ) || status=$?
  if [ "$status" -ne 0 ]; then
    failed+=("$script:$status")
    echo "$script FAILED (exit status $status): the reason is repeated at the end" >&2
  fi
  echo
done

if [ ${#failed[@]} -eq 0 ]; then
  echo "== all $ran benchmarks ran"
  exit 0
fi
{
  echo "== ${#failed[@]} of $ran benchmarks FAILED:"
  for entry in "${failed[@]}"; do
    script=${entry%:*} status=${entry##*:}
    how="exit status $status"
    [ "$status" -gt 128 ] && how="$how (killed by signal $((status - 128)): $(kill -l "$((status - 128))" 2>/dev/null))"
    echo "-- $script: $how; last lines of its stderr:"
    if [ -s "$errs/$script" ]; then
      tail -n "$TAIL" "$errs/$script" | sed 's/^/   /'
    else
      echo "   (nothing: it wrote no stderr at all)"
    fi
  done
} >&2
exit 1
