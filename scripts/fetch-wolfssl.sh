#!/usr/bin/env bash
# Fetches the wolfSSL 5.7.2 source package of Debian 13 (trixie) into DIR
# (default .deps/): the newest Debian revision of 5.7.2 that trixie and
# trixie-security offer, since Debian drops a security revision from the
# mirror once the next one is out. scripts/build-wolfssl.sh builds
# upstream's tarball from it with that revision's patches; the tarball's
# SHA-256 is checked here: it is the same in every Debian revision of 5.7.2. The revision fetched is written
# to DIR/wolfssl.revision (moat --version names it).
# apt runs with a private configuration (sources, lists and caches in a
# temporary directory, the sources derived from the machine's own), so
# the machine's apt sources and lists stay as they were. Needs no root.
# usage: fetch-wolfssl.sh [DIR]
set -euo pipefail
dir=${1:-$(cd "$(dirname "$0")/.." && pwd)/.deps}
upstream=5.7.2
sha256=0f2ed82e345b833242705bbc4b08a2a2037a33f7bf9c610efae6464f6b10e305
tarball=$dir/wolfssl_$upstream.orig.tar.gz

tarball_ok() { [ -f "$tarball" ] && echo "$sha256  $tarball" | sha256sum -c --quiet - 2>/dev/null; }
if tarball_ok; then
  # fetched before the revision was recorded: the .dsc's name says it
  dsc=$(ls "$dir"/wolfssl_"$upstream"-*.dsc 2>/dev/null || true)
  if [ ! -s "$dir/wolfssl.revision" ] && [ "$(echo "$dsc" | grep -c .)" = 1 ]; then
    basename "$dsc" .dsc | sed 's/^wolfssl_//' >"$dir/wolfssl.revision"
  fi
  rev=$(cat "$dir/wolfssl.revision" 2>/dev/null || true)
  [ -n "$rev" ] && [ -f "$dir/wolfssl_$rev.dsc" ] &&
    [ -f "$dir/wolfssl_$rev.debian.tar.xz" ] && exit 0
fi

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/lists/partial" "$tmp/cache/archives/partial" "$tmp/sources"
# deb-src entries for trixie and trixie-security on the machine's own
# mirrors and keys: from its deb822 stanzas (the first one for the
# archive, the first whose suite ends in -security for the security
# archive), else from its one-line "deb" entries
src=$tmp/sources/trixie-src.sources
if [ -f /etc/apt/sources.list.d/debian.sources ]; then
  awk 'function src(s, suite) {
         sub(/Types:[^\n]*/, "Types: deb-src", s)
         sub(/Suites:[^\n]*/, "Suites: " suite, s)
         return s
       }
       BEGIN { RS = ""; ORS = "\n\n" }
       NR == 1 { print src($0, "trixie") }
       /Suites:[^\n]*-security/ && !sec { sec = 1; print src($0, "trixie-security") }' \
    /etc/apt/sources.list.d/debian.sources >"$src"
else
  for suite in trixie trixie-security; do
    pat=' [a-z]+ '; [ "$suite" = trixie ] || pat=' [a-z]+-security '
    uri=$(grep -E "^deb .*$pat" /etc/apt/sources.list | head -1 |
          sed -E 's/^deb (\[[^]]*\] )?//' | awk '{print $1}')
    [ -n "$uri" ] || continue
    printf 'Types: deb-src\nURIs: %s\nSuites: %s\nComponents: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n\n' \
      "$uri" "$suite" >>"$src"
  done
fi
apt_=(-o Dir::Etc::SourceList=/dev/null -o Dir::Etc::SourceParts="$tmp/sources"
      -o Dir::State::Lists="$tmp/lists" -o Dir::Cache="$tmp/cache"
      -o Dir::Cache::pkgcache= -o Dir::Cache::srcpkgcache=
      -o APT::Sandbox::User="$(id -un)")
apt-get "${apt_[@]}" -q update >"$tmp/update.log" 2>&1 || {
  cat "$tmp/update.log" >&2; echo "fetch-wolfssl: apt-get update failed" >&2; exit 1; }
# the newest revision of upstream 5.7.2 offered
rev=
for v in $(apt-cache "${apt_[@]}" showsrc wolfssl 2>/dev/null |
           sed -n "s/^Version: \($upstream-.*\)/\1/p"); do
  if [ -z "$rev" ] || dpkg --compare-versions "$v" gt "$rev"; then rev=$v; fi
done
[ -n "$rev" ] || { echo "fetch-wolfssl: no wolfssl $upstream-* source package in trixie" >&2; exit 1; }
mkdir -p "$dir"
rm -f "$tarball"
(cd "$dir" && apt-get "${apt_[@]}" -q source --download-only "wolfssl=$rev" >"$tmp/source.log" 2>&1) || {
  cat "$tmp/source.log" >&2; echo "fetch-wolfssl: cannot fetch wolfssl $rev" >&2; exit 1; }
tarball_ok || { echo "fetch-wolfssl: $tarball: SHA-256 is not upstream $upstream's $sha256" >&2
                rm -f "$tarball"; exit 1; }
echo "$rev" >"$dir/wolfssl.revision"
echo "fetch-wolfssl: wolfssl $rev"
