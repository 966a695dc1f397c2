#!/usr/bin/env bash
# Builds and runs the whole suite twice: a normal build, then one under
# AddressSanitizer + UndefinedBehaviorSanitizer. Ends with the line CI reads:
#   N passed, N failed
# counting every GTest case (TAP "ok"/"not ok") of both runs.
set -u
BUILD=${1:-build}
ASAN=${2:-build-asan}
cd "$(dirname "$0")/.."

status=0
run_suite() {
  local dir=$1; shift
  [ -f "$dir/build.ninja" ] || meson setup "$dir" "$@" >/dev/null || return 1
  ninja -C "$dir" >/dev/null || { ninja -C "$dir"; return 1; }
  echo "== meson test -C $dir"
  meson test -C "$dir" --print-errorlogs --num-processes 2 2>&1 | grep -vE '^(ninja|\[)' | tail -n 60
  return "${PIPESTATUS[0]}"
}

run_suite "$BUILD" || status=1
run_suite "$ASAN" -Db_sanitize=address,undefined -Db_lundef=false -Dbuildtype=debug || status=1

count() {
  local log=$1/meson-logs/testlog.json
  [ -f "$log" ] || { echo "0 1"; return; }
  jq -r '.stdout // ""' "$log" | awk '
    /^ok /      { if ($0 ~ /# SKIP/) s++; else p++ }
    /^not ok /  { if ($0 ~ /# TODO/) p++; else f++ }
    /^Bail out!/ { f++ }
    END { printf "%d %d\n", p, f }'
  # A test binary that crashed before TAP output still failed:
}
# Every libFuzzer harness (transport repair, each parser) for FUZZ_SECONDS
# (60 by default, as CI runs it; FUZZ_SECONDS=0 skips it for a quick local
# run). Each harness counts as one case: passed when it found nothing.
fuzz_p=0
fuzz_f=0
FUZZ_SECONDS=${FUZZ_SECONDS:-60}
if [ "$FUZZ_SECONDS" -gt 0 ]; then
  echo "== fuzzing: ${FUZZ_SECONDS}s per harness, ${FUZZ_JOBS:-$(nproc)} at a time"
  tests/fuzz/run.sh "$FUZZ_SECONDS" 2>&1 | tee "$BUILD/fuzz.log" | grep --line-buffered -E '^(==|   ok|   FAILED)'
  [ "${PIPESTATUS[0]}" = 0 ] || status=1
  fuzz_p=$(grep -c '^   ok:' "$BUILD/fuzz.log" || true)
  fuzz_f=$(grep -c '^   FAILED' "$BUILD/fuzz.log" || true)
  # A build failure runs no harness at all: count it as one failure.
  if [ "$status" != 0 ] && [ "$fuzz_f" = 0 ] && [ "$fuzz_p" = 0 ]; then fuzz_f=1; fi
fi

read -r p1 f1 < <(count "$BUILD")
read -r p2 f2 < <(count "$ASAN")
# meson's own verdict per binary catches crashes that printed no TAP line.
bin_fail=$(jq -s '[.[] | select(.result != "OK" and .result != "SKIP")] | length' \
  "$BUILD/meson-logs/testlog.json" "$ASAN/meson-logs/testlog.json" 2>/dev/null || echo 1)
failed=$((f1 + f2 + fuzz_f))
if [ "$bin_fail" -gt 0 ] && [ "$failed" -eq 0 ]; then failed=$bin_fail; fi
[ "$failed" -gt 0 ] && status=1
# Name what failed just above the summary: CI shows only the tail of the log.
for dir in "$BUILD" "$ASAN"; do
  log=$dir/meson-logs/testlog.json
  [ -f "$log" ] || continue
  jq -r --arg d "$dir" 'select(.result != "OK" and .result != "SKIP")
    | "FAILED in \($d): \(.name) (\(.result)): " +
      ([(.stdout // "") | split("\n")[] | select(startswith("not ok") or startswith("Bail out!"))]
       | join(" | "))' "$log" 2>/dev/null
done
echo "normal: $p1 passed, $f1 failed; sanitizers: $p2 passed, $f2 failed; fuzzers: $fuzz_p passed, $fuzz_f failed"
echo "$((p1 + p2 + fuzz_p)) passed, $failed failed"
exit $status
