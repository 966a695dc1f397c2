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

# One harness per core at a time: each still gets its full SECONDS, and the
# whole run takes SECONDS x harnesses / cores. Each writes its own summary,
# printed in order at the end.
run_one() {
  local harness=$1 name corpus artifacts log summary
  name=$(basename "$harness")
  corpus=$work/$name
  artifacts=$build/fuzz-artifacts/$name
  summary=$work/$name.summary
  mkdir -p "$corpus" "$artifacts"
  # Flatten the fixture tree into the seed corpus (firmware_file.json).
  while IFS= read -r -d '' f; do
    rel=${f#"$root"/tests/fixtures/}
    cp "$f" "$corpus/${rel//\//_}"
  done < <(find "$root/tests/fixtures" -name '*.json' -print0)

  log=$work/$name.log
  echo "== $name: ${seconds}s, $(ls "$corpus" | wc -l) seeds" >"$summary"
  if "$harness" "$corpus" -max_total_time="$seconds" -print_final_stats=1 \
      -artifact_prefix="$artifacts/" >"$log" 2>&1; then
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
    echo "   ok: ${execs:-?} runs in ${seconds}s, $(ls "$corpus" | wc -l) corpus files" >>"$summary"
  else
    {
      echo "   FAILED (reproducers in $artifacts):"
      grep -E 'ERROR|SUMMARY|runtime error|Test unit written' "$log" | head -20 || true
      tail -n 40 "$log"
    } >>"$summary"
    return 1
  fi
}

cores=$(nproc 2>/dev/null || echo 1)
running=0
for harness in "${targets[@]}"; do
  if [ "$running" -ge "$cores" ]; then
    wait -n || true
    running=$((running - 1))
  fi
  run_one "$harness" &
  running=$((running + 1))
done
wait || true

status=0
for harness in "${targets[@]}"; do
  summary=$work/$(basename "$harness").summary
  cat "$summary"
  if ! grep -q '^   ok:' "$summary"; then
    grep -q '^   FAILED' "$summary" || echo "   FAILED (the harness gave no result)"
    status=1
  fi
done
exit "$status"
