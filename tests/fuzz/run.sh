#!/usr/bin/env bash
# Runs every libFuzzer harness (tests/fuzz/meson.build) for SECONDS each,
# seeded with the recorded replies in tests/fixtures.
#
#   tests/fuzz/run.sh SECONDS
#
# Builds in build-fuzz/ (configured once with clang, ASan and UBSan; reused
# when present). The corpus lives in a temporary directory, never in the
# source tree; crash and leak reproducers are kept in build-fuzz/fuzz-artifacts/.
# Exits non-zero when any harness finds a crash, a leak or undefined behaviour.
#
# Harnesses run side by side, one per core (FUZZ_JOBS overrides), each for
# its full SECONDS: 19 harnesses of 60 s take 10 minutes on 2 cores instead
# of 19. Each one's result is printed in the order of the list as soon as it
# and those before it are done, so the output reads as a serial run's:
#   == NAME: SECONDS s, N seeds
#      ok: RUNS runs in SECONDS s, N corpus files      (or:    FAILED ...)
set -euo pipefail

seconds=${1:?usage: $0 SECONDS}
root=$(cd "$(dirname "$0")/../.." && pwd)
build=$root/build-fuzz
cd "$root"

if [ ! -f "$build/build.ninja" ]; then
  CC=clang meson setup "$build" -Dfuzzing=true \
    -Db_sanitize=address,undefined -Db_lundef=false >/dev/null
fi
# Only the harnesses (and what they link): a warning elsewhere in the tree
# must not stop fuzzing.
mapfile -t targets < <(meson introspect "$build" --targets |
  jq -r '.[] | select(.name | startswith("fuzz-")) | .filename[0]')
if [ "${#targets[@]}" = 0 ]; then
  echo "no fuzz-* harness is defined in $build" >&2
  exit 1
fi
if ! ninja -C "$build" "${targets[@]/#$build\//}" >"$build/fuzz-build.log" 2>&1; then
  cat "$build/fuzz-build.log"
  exit 1
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# intercept_tls_get_addr=0: see tests/lib/meson.build (LSan tracer crash).
# handle_sigtrap=1: a GLib critical (fatal below) traps; ASan then reports it
# with its stack and libFuzzer keeps the input, as for any other crash.
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1:intercept_tls_get_addr=0:handle_sigtrap=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
export LSAN_OPTIONS=suppressions=$root/tests/lsan.supp
export G_DEBUG=fatal-criticals

# The seed corpus, once: the fixture tree flattened (firmware_file.json).
seeds=$work/seeds
mkdir -p "$seeds"
while IFS= read -r -d '' f; do
  rel=${f#"$root"/tests/fixtures/}
  cp "$f" "$seeds/${rel//\//_}"
done < <(find "$root/tests/fixtures" -name '*.json' -print0)

# Runs one harness; its result goes to NAME.summary, which appears (renamed
# from .part) only once complete: the printer below waits for it.
run_one() {
  local harness=$1 name corpus artifacts log part
  name=$(basename "$harness")
  corpus=$work/$name
  artifacts=$build/fuzz-artifacts/$name
  part=$work/$name.summary.part
  mkdir -p "$artifacts"
  cp -r "$seeds" "$corpus"

  log=$work/$name.log
  echo "== $name: ${seconds}s, $(ls "$corpus" | wc -l) seeds" >"$part"
  if "$harness" "$corpus" -max_total_time="$seconds" -print_final_stats=1 \
      -artifact_prefix="$artifacts/" >"$log" 2>&1; then
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
    echo "   ok: ${execs:-?} runs in ${seconds}s, $(ls "$corpus" | wc -l) corpus files" >>"$part"
  else
    {
      echo "   FAILED (reproducers in $artifacts):"
      grep -E 'ERROR|SUMMARY|runtime error|Test unit written' "$log" | head -20 || true
      tail -n 40 "$log"
    } >>"$part"
  fi
  mv "$part" "$work/$name.summary"
}

# Prints, in list order, the results of the harnesses done so far that
# follow the last one printed; a harness that ended without a summary
# (killed) is reported as failed by the final pass (FINAL=1).
printed=0
status=0
print_ready() {
  local final=${1:-0} summary
  while [ "$printed" -lt "${#targets[@]}" ]; do
    summary=$work/$(basename "${targets[printed]}").summary
    if [ ! -f "$summary" ]; then
      [ "$final" = 1 ] || return 0
      echo "== $(basename "${targets[printed]}"): ${seconds}s"
      echo "   FAILED (the harness gave no result)"
      status=1
    else
      cat "$summary"
      grep -q '^   ok:' "$summary" || status=1
    fi
    printed=$((printed + 1))
  done
}

jobs_max=${FUZZ_JOBS:-$(nproc 2>/dev/null || echo 1)}
[ "$jobs_max" -ge 1 ] || jobs_max=1
running=0
for harness in "${targets[@]}"; do
  if [ "$running" -ge "$jobs_max" ]; then
    wait -n || true
    running=$((running - 1))
    print_ready
  fi
  run_one "$harness" &
  running=$((running + 1))
done
wait || true
print_ready 1
exit "$status"
