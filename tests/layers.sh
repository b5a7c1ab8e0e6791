#!/usr/bin/env bash
# The arrows of src/ point one way: a folder includes only from its own
# layer and the ones below it (the order is meson.build's and docs/development.md's
# "Architecture"). Prints every include that points up; fails on any.
set -uo pipefail
cd "$(dirname "$0")/../src"
layers=(base config codec tls auth core upstream conn ops)
rank() { local i; for i in "${!layers[@]}"; do [ "${layers[$i]}" = "$1" ] && { echo "$i"; return; }; done; echo 99; }
bad=0 n=0
for f in */*.[ch]; do
  own=$(rank "${f%%/*}")
  [ "$own" = 99 ] && { echo "$f: folder not in the layer list"; bad=1; continue; }
  while IFS= read -r inc; do
    n=$((n + 1))
    dep=$(rank "${inc%%/*}")
    if [ "$dep" -gt "$own" ]; then
      echo "$f includes $inc: ${f%%/*} is below ${inc%%/*}"; bad=1
    fi
  done < <(sed -n 's/^#include "\([a-z]*\/[a-z_-]*\.h\)".*/\1/p' "$f")
done
[ "$n" -gt 0 ] || { echo "no includes read"; exit 1; }
[ "$bad" = 0 ] && echo "layers: $n includes, all pointing down"
exit "$bad"
