#!/usr/bin/env bash
# Builds the Debian package moat_<version>_<arch>.deb on Debian 12:
#   bash scripts/build-deb.sh [--no-deps] [--no-lintian] [OUTDIR]
# installs the build dependencies (scripts/install-deps.sh --package, as
# root), copies the source (the files git knows, or the whole tree without
# build output) to OUTDIR/src (default build-deb/), runs
# `dpkg-buildpackage -us -uc -b` there (moat with its own wolfSSL linked in
# statically), and runs lintian on the result when it is installed. The
# .deb lands in OUTDIR. MOAT_WOLFSSL_PREFIX=DIR reuses a wolfSSL prefix
# built by scripts/build-wolfssl.sh (see debian/rules).
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
deps=1 lint=1 out=
for a in "$@"; do
  case $a in
    --no-deps) deps= ;;
    --no-lintian) lint= ;;
    -*) echo "usage: build-deb.sh [--no-deps] [--no-lintian] [OUTDIR]" >&2; exit 2 ;;
    *) out=$a ;;
  esac
done
out=$(mkdir -p "${out:-$top/build-deb}" && cd "${out:-$top/build-deb}" && pwd)
[ -n "$deps" ] && bash "$top/scripts/install-deps.sh" --package
rm -rf "$out/src" "$out"/moat_* "$out"/moat-dbgsym_*
mkdir -p "$out/src"
cd "$top"
if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
  git ls-files -z --cached --others --exclude-standard |
    while IFS= read -r -d '' f; do
      case $f in .deps | .deps/* | build* | demo/*) continue ;; esac
      [ -f "$f" ] && printf '%s\0' "$f"
    done |
    xargs -0 cp --parents -t "$out/src"
else
  tar -cf - --exclude='./build*' --exclude=./.deps --exclude=./demo . |
    tar -xf - -C "$out/src"
fi
# the wolfSSL source package, when install-deps.sh already fetched it
if [ -d "$top/.deps" ]; then cp -rL "$top/.deps" "$out/src/.deps"; fi
(cd "$out/src" && dpkg-buildpackage -us -uc -b) > "$out/build.log" 2>&1 || {
  tail -40 "$out/build.log"; echo "build-deb: failed, see $out/build.log" >&2; exit 1; }
deb=$(ls "$out"/moat_*.deb | grep -v dbgsym)
if [ -n "$lint" ] && command -v lintian >/dev/null; then
  echo "build-deb: lintian $(basename "$deb")"
  lintian --info "$deb" || true
fi
echo "build-deb: $deb"
