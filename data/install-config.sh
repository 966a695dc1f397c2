#!/bin/sh
# meson install script: copies antmon.ini.dist to antmon.ini in $1 (under
# $DESTDIR) unless an antmon.ini is there already, so an upgrade never
# overwrites a configuration the user changed.
set -eu
dir="${DESTDIR:-}$1"
if [ -e "$dir/antmon.ini" ]; then
  echo "keeping $dir/antmon.ini (the new default is $dir/antmon.ini.dist)"
else
  cp "$dir/antmon.ini.dist" "$dir/antmon.ini"
  chmod 0644 "$dir/antmon.ini"
  echo "installed $dir/antmon.ini"
fi
