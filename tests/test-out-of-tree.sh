#!/bin/sh
# An out-of-tree plugin, built the way a firmware vendor would build one:
#  1. `meson install --destdir` the build under test into a scratch root;
#  2. compile plugins/driver/example/ alone with
#     cc -shared -fPIC $(pkg-config --cflags --libs antmon), pkg-config
#     pointed into that root, into a fresh directory that is the ONLY
#     plugin directory;
#  3. run the INSTALLED antmon (with the installed libantmon) against a fake
#     ExampleOS miner on a random 127.x address and port, and check that
#     `antmon query --json` picked driver "example" and read its values.
# TAP on stdout. Environment (from tests/meson.build): ANTMON_BUILD_ROOT,
# G_TEST_SRCDIR (the source tests/ folder), ANTMON_FAKEMINER.
#
# Under the ASan build the installed antmon and libantmon are sanitized and
# the plugin is not. That works without LD_PRELOAD: the executable itself
# links the ASan runtime, so the runtime is first in the process, and the
# plain plugin's malloc/free go through the same interceptors. (An
# unsanitized executable loading a sanitized library is the case that needs
# LD_PRELOAD; it does not arise here.)
set -u

build=${ANTMON_BUILD_ROOT:?ANTMON_BUILD_ROOT is not set}
src=$(cd "${G_TEST_SRCDIR:?G_TEST_SRCDIR is not set}/.." && pwd)
fakeminer=${ANTMON_FAKEMINER:?ANTMON_FAKEMINER is not set}
cc=${CC:-cc}
tmp=$(mktemp -d "${TMPDIR:-/tmp}/antmon-oot-XXXXXX")
fm_pid=

cleanup() {
  if [ -n "$fm_pid" ]; then
    kill "$fm_pid" 2>/dev/null
    wait "$fm_pid" 2>/dev/null
  fi
  rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP

n=0
failed=0
ok() { n=$((n + 1)); echo "ok $n - $1"; }
not_ok() {
  n=$((n + 1))
  failed=1
  echo "not ok $n - $1"
  [ -f "$tmp/log" ] && sed 's/^/# /' "$tmp/log"
}
bail() { echo "Bail out! $1"; [ -f "$tmp/log" ] && sed 's/^/# /' "$tmp/log"; exit 1; }

echo "1..6"

# 1. Install the build under test into a scratch root.
if meson install -C "$build" --no-rebuild --quiet --destdir "$tmp/root" >"$tmp/log" 2>&1; then
  ok "meson install --destdir"
else
  bail "meson install -C $build failed"
fi
pc=$(find "$tmp/root" -name antmon.pc -path '*/pkgconfig/*' | head -n 1)
[ -n "$pc" ] || bail "antmon.pc was not installed"
# Point pkg-config at the installed antmon.pc, relocated into the scratch
# root. PKG_CONFIG_SYSROOT_DIR would not do: pkg-config prefixes it to every
# package's flags, glib's included, which are not in the scratch root (a
# sysroot is for cross builds where everything is). So a copy of antmon.pc
# gets prefix= moved under the root, which is what a package installed
# there would have said.
mkdir -p "$tmp/pkgconfig"
prefix=$(PKG_CONFIG_PATH=$(dirname "$pc") pkg-config --variable=prefix antmon)
sed "s|^prefix=.*|prefix=$tmp/root$prefix|" "$pc" >"$tmp/pkgconfig/antmon.pc"
PKG_CONFIG_PATH=$tmp/pkgconfig${PKG_CONFIG_PATH:+:$PKG_CONFIG_PATH}
export PKG_CONFIG_PATH

# 2. pkg-config finds the installed headers and library, and names the
# plugin directory a package would install into.
plugindir=$(pkg-config --variable=plugindir antmon)
cflags=$(pkg-config --cflags antmon)
libs=$(pkg-config --libs antmon)
case "$plugindir" in
*/antmon/plugins) ;;
*) not_ok "pkg-config plugindir is '$plugindir'" ;;
esac
case "$cflags $libs" in
*"-I$tmp/root/"*"-L$tmp/root/"*) ok "pkg-config antmon points into the install root ($plugindir)" ;;
*) not_ok "pkg-config antmon: '$cflags $libs' does not point into $tmp/root" ;;
esac

# 3. The example driver, alone, compiled like any vendor's plugin: its two
# files and the installed headers, nothing from the build tree.
mkdir -p "$tmp/plugins" "$tmp/work"
cp "$src/plugins/driver/example/am-example.c" "$src/plugins/driver/example/am-example-parse.c" \
  "$src/plugins/driver/example/am-example-parse.h" "$tmp/work/"
# shellcheck disable=SC2086 # pkg-config output is a word list
if $cc -std=c11 -Wall -Wextra -Werror -Wno-unused-parameter -shared -fPIC \
  -o "$tmp/plugins/driver-example.so" "$tmp/work/am-example.c" "$tmp/work/am-example-parse.c" \
  $cflags $libs >"$tmp/log" 2>&1; then
  ok "cc -shared -fPIC \$(pkg-config --cflags --libs antmon) builds driver-example.so"
else
  bail "the example driver does not build out of tree"
fi

# The installed antmon with the installed libantmon; its compiled-in plugin
# directory is under the real prefix, not in the scratch root, so the one
# plugin directory is ours.
antmon=$(find "$tmp/root" -type f -name antmon -path '*/bin/*' | head -n 1)
libdir=$(dirname "$(find "$tmp/root" -name 'libantmon.so*' | head -n 1)")
[ -x "$antmon" ] || bail "antmon was not installed"
run_antmon() {
  LD_LIBRARY_PATH=$libdir${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH} ANTMON_PLUGIN_DIR=$tmp/plugins \
    "$antmon" "$@"
}

# 4. The loader takes it, from our directory, and the build tree's own
# example plugin is nowhere in sight.
if run_antmon plugins --json >"$tmp/plugins.json" 2>"$tmp/log" &&
  python3 - "$tmp/plugins.json" "$tmp/plugins/driver-example.so" "$build" >>"$tmp/log" 2>&1 <<'EOF'; then
import json, os, sys
listing = json.load(open(sys.argv[1]))
examples = [p for p in listing["plugins"] if p["name"] == "example"]
assert len(examples) == 1, examples
assert examples[0]["file"] == sys.argv[2], examples[0]
assert examples[0]["kind"] == "driver", examples[0]
build = os.path.realpath(sys.argv[3]) + "/"
files = [p["file"] for p in listing["plugins"] + listing["rejected"]]
assert not [f for f in files if os.path.realpath(f).startswith(build)], files
EOF
  ok "antmon plugins loads driver-example.so from the only plugin directory"
else
  not_ok "antmon plugins does not list the out-of-tree example driver"
fi

# 5. A fake ExampleOS miner on a random loopback address and port. A taken
# port makes the fake exit with status 2; then another pair is tried.
start_fake() {
  for _ in 1 2 3 4 5; do
    host=127.$(($$ % 200 + 20)).$(od -An -N1 -tu1 /dev/urandom | tr -d ' ').$(($(od -An -N1 -tu1 /dev/urandom | tr -d ' ') % 250 + 2))
    port=$(($(od -An -N2 -tu2 /dev/urandom | tr -d ' ') % 30000 + 20000))
    "$fakeminer" --base "$host" --port "$port" --profile "$src/tests/fakeminer/profiles/example" \
      >"$tmp/fake.out" 2>"$tmp/log" &
    fm_pid=$!
    # Wait for "ready" (or the fake's exit), polling its output.
    i=0
    while [ $i -lt 200 ]; do
      grep -q '^ready' "$tmp/fake.out" && return 0
      kill -0 "$fm_pid" 2>/dev/null || break
      sleep 0.05
      i=$((i + 1))
    done
    kill "$fm_pid" 2>/dev/null
    wait "$fm_pid" 2>/dev/null
    fm_pid=
  done
  return 1
}
start_fake || bail "the fake ExampleOS miner did not start"

if run_antmon query "$host:$port" --json --timeout 10 >"$tmp/query.json" 2>"$tmp/log" &&
  python3 - "$tmp/query.json" "$host" "$port" >>"$tmp/log" 2>&1 <<'EOF'; then
import json, sys
s = json.load(open(sys.argv[1]))
want = {"host": sys.argv[2], "port": int(sys.argv[3]), "driver": "example",
        "model": "Example X1", "firmware": "ExampleOS", "firmware_version": "1.4.2",
        "algorithm": "sha256d", "power_w": 3150, "power_source": "reported",
        "elapsed_s": 86400, "accepted": 51234, "rejected": 12, "hw_errors": 42,
        "fans_rpm": [4200, 4260], "status": "ok"}
for key, value in want.items():
    assert s[key] == value, (key, s[key], value)
# "GHS 5s" 97500.00 GH/s; the fake varies it by at most 2 %.
assert abs(s["hashrate_ths"] - 97.5) <= 0.02 * 97.5, s["hashrate_ths"]
# Three board temperatures near 61, 63, 60 (the fake moves them by 1.5 degC).
assert [round(t) in range(58, 66) for t in s["temps_c"]] == [True] * 3, s["temps_c"]
EOF
  ok "antmon query picks driver example and reads the fake ExampleOS miner"
else
  not_ok "antmon query of the fake ExampleOS miner at $host:$port"
fi

# 6. The same installed antmon without our directory has no example
# driver: it came from the out-of-tree build alone.
if LD_LIBRARY_PATH=$libdir ANTMON_PLUGIN_DIR=$tmp/work "$antmon" plugins --json \
  >"$tmp/plugins2.json" 2>"$tmp/log" &&
  python3 -c 'import json, sys; l = json.load(open(sys.argv[1])); assert not [p for p in l["plugins"] if p["name"] == "example"], l' \
    "$tmp/plugins2.json" >>"$tmp/log" 2>&1; then
  ok "without the out-of-tree plugin antmon has no example driver"
else
  not_ok "antmon lists an example driver it should not have"
fi
exit $failed
