#!/usr/bin/env bash
# bench/connect-profile.sh - where one MQTT connect through moat goes:
# system calls per connect (strace -c on moat while moat-bench connects
# N times through it to a local mosquitto), full or resumed handshakes.
#   bash bench/connect-profile.sh [full|resumed]   (after ninja -C build)
# Environment: N (connects, 2000), CONC (50), MOAT (the binary),
# LOG (moat's log.level, warn). PERF=1: where moat's CPU goes instead
# (perf record -g on moat during the connects; the self time of each
# symbol summed into crypto (wolfSSL's sp_256_* ECC, other wolfSSL crypto),
# wolfSSL's TLS code, moat's own code, libc, libuv, jansson/yaml and the
# kernel; WOLFSSL_LIB names the libwolfssl.a moat was linked with, whose
# symbols tell wolfSSL's code from moat's in the static binary).
# Loopback only; every process started here is stopped by its PID.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
MOAT=${MOAT:-$top/build/moat}
B=${B:-$(dirname "$MOAT")/bench/moat-bench}
N=${N:-2000} CONC=${CONC:-50} LOG=${LOG:-warn}
kind=${1:-full}
w=$(mktemp -d)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$w"; }
trap cleanup EXIT
bash "$top/tests/pki.sh" "$w/pki" >/dev/null
P=$w/pki
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
BROKER=$(free_port) PORT=$(free_port)
printf 'listener %s 127.0.0.1\nallow_anonymous true\npersistence false\n' "$BROKER" > "$w/broker.conf"
mosquitto -c "$w/broker.conf" > "$w/broker.log" 2>&1 & pids+=($!)
cat > "$w/moat.yaml" <<EOC
workers: 1
log: { level: $LOG }
limits: { max_connections: 100000, handshake_timeout: 30s, connect_timeout: 30s }
listeners:
  - name: mqtts
    bind: 127.0.0.1:$PORT
    upstream: b
    tls: { cert: $P/server.crt, key: $P/server.key, client_ca: $P/ca.crt, crl: $P/crl.pem }
    mqtt: { identity: cn, client_id_must_match: false }
upstreams:
  - name: b
    health: { type: none }
    servers: [ { name: b1, address: 127.0.0.1:$BROKER } ]
EOC
"$MOAT" -c "$w/moat.yaml" > "$w/moat.log" 2>&1 & mp=$!; pids+=($mp)
for _ in $(seq 100); do (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null && break; sleep 0.1; done
TLS=(--ca "$P/ca.crt" --cert "$P/dev-good.crt" --key "$P/dev-good.key")
r=(); [ "$kind" = resumed ] && r=(-r)
"$B" connect -H 127.0.0.1:"$PORT" "${TLS[@]}" -c "$CONC" -n 200 "${r[@]}" >/dev/null # warm
# TRACE=call,call: print those calls of the first connects instead
if [ -n "${PERF:-}" ]; then
  perf record -q -g -F "${FREQ:-2000}" -p "$mp" -o "$w/perf.data" 2>/dev/null & sp=$!
elif [ -n "${TRACE:-}" ]; then
  strace -f -tt -p "$mp" -e trace="$TRACE" -o "$w/strace.txt" & sp=$!
else
  strace -c -f -p "$mp" -o "$w/strace.txt" & sp=$!
fi
pids+=($sp)
sleep 1
out=$("$B" connect -H 127.0.0.1:"$PORT" "${TLS[@]}" -c "$CONC" -n "$N" "${r[@]}")
kill -INT "$sp"; wait "$sp" 2>/dev/null || true
if [ -n "${PERF:-}" ]; then
  echo "$out"
  # the build's wolfssl_prefix (meson's options), unless WOLFSSL_LIB says
  lib=${WOLFSSL_LIB:-$(python3 -c 'import json,sys; print([o["value"] for o in json.load(open(sys.argv[1])) if o["name"]=="wolfssl_prefix"][0])' \
    "$(dirname "$MOAT")/meson-info/intro-buildoptions.json" 2>/dev/null)/lib/libwolfssl.a}
  nm "$lib" 2>/dev/null | awk '$2 ~ /^[tT]$/ {print $3}' | sort -u > "$w/wolfssl.syms"
  [ -s "$w/wolfssl.syms" ] || { echo "no wolfSSL symbols (set WOLFSSL_LIB=.../libwolfssl.a)"; exit 1; }
  perf report -i "$w/perf.data" --no-children --sort dso,sym --stdio -g none 2>/dev/null |
    awk -v syms="$w/wolfssl.syms" '
      BEGIN { while ((getline l < syms) > 0) wolf[l] = 1 }
      /^ *[0-9.]+%/ {
        pct = $1; sub(/%/, "", pct); dso = $2; sym = $NF
        if (dso ~ /kernel/) k = "kernel"
        else if (dso ~ /^libc/ || dso ~ /^ld-linux/) k = "libc"
        else if (dso ~ /^libuv/) k = "libuv"
        else if (dso ~ /jansson|yaml/) k = "jansson, yaml"
        else if (sym ~ /^_?sp_256/) k = "crypto: P-256 (sp_256_*)"
        else if (sym in wolf && sym ~ /^(_?sp_|wc_|Aes|GHASH|GMULT|Sha|sha|Transform|Hmac|mp_|ecc_|fe_|ge_|sc_|Rsa|_Sha|AES_|RNG|Hash_DRBG|ByteReverse|xorbuf)/) k = "crypto: other (AES-GCM, SHA, HKDF, DRBG)"
        else if (sym in wolf) k = "wolfSSL TLS (records, messages, certificates)"
        else if (dso ~ /moat/) k = "moat (src/)"
        else k = "other: " dso
        share[k] += pct; tot += pct
      }
      END { for (k in share) printf "  %5.1f %%  %s\n", share[k], k; printf "  %5.1f %%  (sampled total)\n", tot }' | sort -k1 -nr
  echo "top symbols (self):"
  perf report -i "$w/perf.data" --no-children --sort dso,sym --stdio -g none 2>/dev/null | grep -E '^ *[0-9.]+%' | head -"${TOP:-25}"
  exit 0
fi
[ -n "${TRACE:-}" ] && { head -"${LINES_SHOWN:-60}" "$w/strace.txt"; exit 0; }
echo "$out"
ok=$(echo "$out" | grep -o 'ok=[0-9]*' | cut -d= -f2)
echo "system calls per $kind connect (moat, $ok connects):"
awk -v n="$ok" 'NR>2 && $NF!="total" && $4 ~ /^[0-9]+$/ { printf "  %-16s %6.2f\n", $NF, $4/n; t+=$4 } END { printf "  %-16s %6.2f\n", "all", t/n }' "$w/strace.txt" | sort -k2 -nr
