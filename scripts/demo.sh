#!/usr/bin/env bash
# Quick start: install what is needed, build, make a demo PKI, start two
# local mosquitto brokers and run moat on config/moat.example.yaml in the
# foreground. Ctrl-C stops moat and the brokers.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
bash scripts/install-deps.sh --demo
[ -f build/build.ninja ] || meson setup build >/dev/null
ninja -C build >/dev/null
bash tests/pki.sh demo/pki
pids=()
stop() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
}
trap stop EXIT INT TERM
for port in 18831 18832; do
  printf 'listener %s 127.0.0.1\nallow_anonymous true\npersistence false\n' "$port" \
    > "demo/broker-$port.conf"
  mosquitto -c "demo/broker-$port.conf" > "demo/broker-$port.log" 2>&1 &
  pids+=($!)
done
tls="--cafile demo/pki/ca.crt --cert demo/pki/dev-good.crt --key demo/pki/dev-good.key"
cat <<MSG

moat is starting on 127.0.0.1:8883 in front of brokers on 18831 and 18832.
In another terminal, from $top:

  mosquitto_sub -h localhost -p 8883 $tls -i dev-good -t demo/# -v &
  mosquitto_pub -h localhost -p 8883 --cafile demo/pki/ca.crt --cert demo/pki/dev-good2.crt --key demo/pki/dev-good2.key -i dev-good2 -t demo/hello -m 'hello through moat'
  build/moat ctl -s demo/moat.sock show servers

A client id other than the certificate's CN is refused (CONNACK 0x02):
  mosquitto_pub -h localhost -p 8883 $tls -i someone-else -t demo/x -m no

Ctrl-C stops moat and the brokers.

MSG
build/moat -c config/moat.example.yaml &
pids+=($!)
wait "${pids[-1]}"
