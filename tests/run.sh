#!/usr/bin/env bash
# The whole test suite (installs what it needs first: scripts/install-deps.sh):
# unit and integration tests on the normal build,
# then both again on a build with AddressSanitizer and UBSan, and the
# integration tests once more there with `workers: 2`. Ends with
# one line "N passed, M failed" (the sum) and exits non-zero on failure.
# /etc/hosts: the first integration pass (normal build, one worker) runs
# under Debian 12's stock /etc/hosts, where `localhost` is ::1 and then
# 127.0.0.1, bind-mounted in a private mount namespace (the machine's
# file is not touched); the other passes use the machine's own file, so
# both kinds are tested wherever the suite runs.
set -uo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
# what the tests need beyond the demo's packages (idempotent, about a second
# when done)
bash scripts/install-deps.sh || { echo "install-deps.sh failed"; echo "0 passed, 1 failed"; exit 1; }
PY=/usr/bin/python3
results=$(mktemp -d)
passed=0 failed=0 broken=0

count_junit() { # FILE -> adds to passed/failed
  local f=$1 t fl er sk
  [ -f "$f" ] || { broken=1; return; }
  read -r t fl er sk < <($PY - "$f" <<'PYEOF'
import sys, xml.etree.ElementTree as ET
r = ET.parse(sys.argv[1]).getroot()
suites = [r] if r.tag == "testsuite" else r.findall("testsuite")
t = f = e = s = 0
for su in suites:
    t += int(su.get("tests", 0)); f += int(su.get("failures", 0))
    e += int(su.get("errors", 0)); s += int(su.get("skipped", 0))
print(t, f, e, s)
PYEOF
)
  passed=$((passed + t - fl - er - sk))
  failed=$((failed + fl + er))
}

run_build() { # DIR MESONARGS...
  local dir=$1; shift
  echo "== build $dir"
  if [ ! -f "$dir/build.ninja" ]; then
    meson setup "$dir" "$@" >"$results/$dir-setup.log" 2>&1 ||
      { tail -30 "$results/$dir-setup.log"; broken=1; return 1; }
  fi
  ninja -C "$dir" >"$results/$dir-build.log" 2>&1 ||
    { tail -40 "$results/$dir-build.log"; broken=1; return 1; }
}

# Debian 12's stock /etc/hosts (its 127.0.1.1 line names the machine)
stock_hosts=$results/hosts
printf '127.0.0.1\tlocalhost\n127.0.1.1\t%s\n\n::1     localhost ip6-localhost ip6-loopback\nff02::1 ip6-allnodes\nff02::2 ip6-allrouters\n' \
  "$(hostname)" >"$stock_hosts"
in_stock_hosts=(unshare -m)
[ "$(id -u)" = 0 ] || in_stock_hosts=(unshare -r -m)
in_stock_hosts+=(sh -c 'mount --bind "$0" /etc/hosts && exec "$@"' "$stock_hosts")

run_integration() { # DIR [WORKERS [stock]]: WORKERS sets `workers` in every
  local dir=$1 w=${2:-} hosts=${3:-} wrap=() # test; stock: the stock hosts
  if [ "$hosts" = stock ]; then
    if "${in_stock_hosts[@]}" getent ahosts localhost | grep -q '^::1 '; then
      wrap=("${in_stock_hosts[@]}")
    else
      echo "cannot mount a private /etc/hosts (unshare -m): this pass uses the machine's"
      failed=$((failed + 1))
    fi
  fi
  local which="the machine's"
  [ ${#wrap[@]} = 0 ] || which="Debian's stock"
  echo "== integration tests ($dir${w:+, workers: $w}, /etc/hosts: $which)"
  MOAT_TEST_WORKERS="$w" MOAT_BIN="$top/$dir/moat" "${wrap[@]}" $PY -m pytest -q \
    -p no:cacheprovider --junitxml="$results/$dir-w$w-pytest.xml" \
    tests/integration || true
  count_junit "$results/$dir-w$w-pytest.xml"
}

run_suite() { # DIR [stock]
  local dir=$1
  echo "== unit tests ($dir)"
  meson test -C "$dir" --print-errorlogs --suite unit || true
  count_junit "$dir/meson-logs/testlog.junit.xml"
  run_integration "$dir" "" "${2:-}"
}

if run_build build; then
  run_suite build stock
  # two workers on the normal build too: under the sanitizers moat keeps
  # wolfSSL's allocations in malloc, so only here do several threads run
  # their handshakes on the scratch heap (src/base/scratch.c)
  run_integration build 2
fi
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1:halt_on_error=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
if run_build build-asan -Db_sanitize=address,undefined -Db_lundef=false \
     -Dwolfssl_prefix="$top/build/wolfssl" -Dbuildtype=debug; then
  run_suite build-asan
  # the whole suite again with two workers (threads), under the sanitizers
  run_integration build-asan 2
fi
# Fuzzing: each libFuzzer target replays its corpus in tests/fuzz (seeds
# and the regressions of crashes found so far), then fuzzes for a short
# fixed time on a copy of it. One test each; a crash fails it.
FUZZ_SECONDS=${FUZZ_SECONDS:-20}
if command -v clang >/dev/null; then
  echo "== fuzz (${FUZZ_SECONDS}s per target)"
  if [ -f build-fuzz/build.ninja ] ||
     CC=clang meson setup build-fuzz -Dfuzz=true -Dwolfssl_prefix="$top/build/wolfssl" \
       >"$results/fuzz-setup.log" 2>&1; then
    for t in mqtt config ocsp proxy jwt ticket csr ws_upgrade ws_frame topic acl est; do
      if ! ninja -C build-fuzz "tests/fuzz_$t" >"$results/fuzz-build.log" 2>&1; then
        tail -20 "$results/fuzz-build.log"; failed=$((failed + 1)); continue
      fi
      work=$(mktemp -d)
      cp -r "tests/fuzz/corpus_$t/." "$work/"
      if (cd "$work" && "$top/build-fuzz/tests/fuzz_$t" -runs=0 "$work" >/dev/null 2>&1 &&
          "$top/build-fuzz/tests/fuzz_$t" -max_total_time="$FUZZ_SECONDS" -max_len=4096 \
            -timeout=10 -rss_limit_mb=2048 "$work" >"$results/fuzz-$t.log" 2>&1); then
        echo "fuzz_$t: $(grep -o 'Done [0-9]* runs' "$results/fuzz-$t.log" || echo ok)"
        passed=$((passed + 1))
      else
        echo "fuzz_$t: FAILED"; tail -30 "$results/fuzz-$t.log"
        ls "$work"/crash-* 2>/dev/null && echo "add the crash input to tests/fuzz/corpus_$t"
        failed=$((failed + 1))
      fi
      rm -rf "$work"
    done
  else
    tail -20 "$results/fuzz-setup.log"; broken=1
  fi
fi

rm -rf "$results"
[ "$broken" = 0 ] || { echo "a build or a test run could not complete"; failed=$((failed + 1)); }
echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
