#!/usr/bin/env bash
# bench/ws-compare.sh - MQTT over WebSocket: what WSS costs moat against
# its own mutual-TLS path, and against what users run today for browsers
# (nginx terminating WSS, proxying to mosquitto's WebSocket listener). One
# mosquitto (a plain and a WebSocket listener), one moat (a TLS and a
# websocket listener, same certificate checks, CRL), one nginx (https with
# client certificates and the Upgrade headers); runs take turns rep by rep.
# Figures: proxy CPU µs per message delivered (2 pairs at RATE msg/s each,
# 64 B QoS 0), the same with the broker's CPU added (behind nginx the
# broker itself speaks WebSocket, behind moat plain MQTT) and full connects (mTLS handshake, upgrade, CONNECT,
# CONNACK, DISCONNECT) per proxy CPU-second, each the median of REPS.
#   bash bench/ws-compare.sh    (after: meson setup build && ninja -C build)
# Environment: WORKERS (proxy threads / nginx workers: all cores), REPS (3),
# RATE (5000), SECONDS_PS (5), N_CONN (1000). Prints a Markdown table.
# Everything listens on 127.0.0.1; every process started here is stopped
# by its PID at the end.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
B=$top/build/bench/moat-bench
MOAT=$top/build/moat
WORKERS=${WORKERS:-$(nproc)}
REPS=${REPS:-3}
RATE=${RATE:-5000}
SECONDS_PS=${SECONDS_PS:-5}
N_CONN=${N_CONN:-1000}
[ -x "$B" ] && [ -x "$MOAT" ] || { echo "build first: meson setup build && ninja -C build"; exit 1; }
for c in nginx mosquitto openssl; do
  command -v $c >/dev/null || { echo "missing $c (bash scripts/install-deps.sh)"; exit 1; }
done
hz=$(getconf CLK_TCK)
w=$(mktemp -d)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do
    for _ in $(seq 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$p" 2>/dev/null || true
  done
  rm -rf "$w"
}
trap cleanup EXIT
bash tests/pki.sh "$w/pki" >/dev/null
P=$w/pki
TLS=(--ca "$P/ca.crt" --cert "$P/dev-good.crt" --key "$P/dev-good.key")
port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
BROKER=$(port) BROKER_WS=$(port) MOAT_TLS=$(port) MOAT_WSS=$(port) NGINX=$(port)
wait_port() {
  for _ in $(seq 100); do
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
    sleep 0.1
  done
  echo "port $1 did not open"; exit 1
}
cpu_ticks() { # PIDs -> utime+stime of all of them, in ticks
  local t=0 u s p
  for p in $1; do
    read -r u s < <(cut -d')' -f2 "/proc/$p/stat" 2>/dev/null | awk '{print $12, $13}')
    [ -n "$u" ] && t=$((t + u + s))
  done
  echo $t
}

# mosquitto: its WebSocket listener needs a plain one beside it (Debian's
# libwebsockets, see the project's notes)
cat > "$w/mosq.conf" <<EOF
listener $BROKER 127.0.0.1
listener $BROKER_WS
protocol websockets
allow_anonymous true
persistence false
set_tcp_nodelay true
EOF
mosquitto -c "$w/mosq.conf" > "$w/mosq.log" 2>&1 & mosq_pid=$!; pids+=($mosq_pid)
wait_port $BROKER; wait_port $BROKER_WS

cat > "$w/moat.yaml" <<EOF
workers: $WORKERS
log: { level: warn }
limits: { max_connections: 20000 }
listeners:
  - name: tls
    bind: 127.0.0.1:$MOAT_TLS
    upstream: b
    tls: { cert: $P/server.crt, key: $P/server.key, client_ca: $P/ca.crt, crl: $P/crl.pem }
    mqtt: { identity: cn }
  - name: wss
    bind: 127.0.0.1:$MOAT_WSS
    upstream: b
    tls: { cert: $P/server.crt, key: $P/server.key, client_ca: $P/ca.crt, crl: $P/crl.pem }
    mqtt: { identity: cn }
    websocket: { paths: [/mqtt], origins: [https://bench.example] }
upstreams:
  - name: b
    health: { type: none }
    servers: [ { name: m, address: 127.0.0.1:$BROKER } ]
EOF
"$MOAT" -c "$w/moat.yaml" > "$w/moat.log" 2>&1 & moat_pid=$!; pids+=($moat_pid)
wait_port $MOAT_TLS; wait_port $MOAT_WSS

mkdir -p "$w/nginx"
cat > "$w/nginx.conf" <<EOF
worker_processes $WORKERS;
worker_rlimit_nofile 20000;
daemon off;
pid $w/nginx/nginx.pid;
error_log $w/nginx/error.log warn;
events { worker_connections 9900; }
http {
    access_log off;
    server {
        listen 127.0.0.1:$NGINX ssl;
        ssl_certificate $P/server.crt;
        ssl_certificate_key $P/server.key;
        ssl_client_certificate $P/ca.crt;
        ssl_verify_client on;
        ssl_verify_depth 3;
        ssl_crl $P/crl.pem;
        ssl_protocols TLSv1.2 TLSv1.3;
        location /mqtt {
            proxy_pass http://127.0.0.1:$BROKER_WS;
            proxy_http_version 1.1;
            proxy_set_header Upgrade \$http_upgrade;
            proxy_set_header Connection "upgrade";
            proxy_read_timeout 1h;
            proxy_buffering off;
        }
    }
}
EOF
nginx -c "$w/nginx.conf" -p "$w/nginx" > "$w/nginx.log" 2>&1 & nginx_pid=$!; pids+=($nginx_pid)
wait_port $NGINX

declare -A PP=([moat-tls]="$moat_pid" [moat-wss]="$moat_pid")
PP[nginx-wss]="$nginx_pid $(pgrep -P "$nginx_pid" | tr '\n' ' ')"
declare -A ADDR=([moat-tls]=$MOAT_TLS [moat-wss]=$MOAT_WSS [nginx-wss]=$NGINX)
declare -A WS=([moat-tls]="" [moat-wss]="--ws /mqtt" [nginx-wss]="--ws /mqtt")
SYS="moat-tls moat-wss nginx-wss"
declare -A R
field() { echo "$1" | tr ' ' '\n' | awk -F= -v k="$2" '$1==k{print $2}'; }
secs() { awk -v a="$1" -v b="$2" -v hz="$hz" 'BEGIN{printf "%.3f", (b-a)/hz}'; }
run() { # SYS KEY bench args...: the bench line, the proxy's and the broker's CPU seconds
  local sys=$1 key=$2 c0 c1 m0 m1 out; shift 2
  c0=$(cpu_ticks "${PP[$sys]}"); m0=$(cpu_ticks "$mosq_pid")
  # shellcheck disable=SC2086
  out=$("$B" "$@" -H 127.0.0.1:"${ADDR[$sys]}" "${TLS[@]}" ${WS[$sys]} 2>&1 | tail -1)
  c1=$(cpu_ticks "${PP[$sys]}"); m1=$(cpu_ticks "$mosq_pid")
  R[$sys.$key]="$out cpu_s=$(secs "$c0" "$c1") broker_cpu_s=$(secs "$m0" "$m1")"
  echo "$sys $key: ${R[$sys.$key]}" >&2
}
for i in $(seq "$REPS"); do
  for s in $SYS; do
    run $s msg.r$i pubsub -p 2 -R "$RATE" -t "$SECONDS_PS"
    run $s conn.r$i connect -n "$N_CONN" -c 50
  done
done
med() { sort -g | awk '{a[NR]=$1} END{ if (NR) print a[int((NR+1)/2)]; else print "-" }'; }
us_per_msg() { # SYS [broker] -> median µs of proxy (and broker) CPU per message received
  for i in $(seq "$REPS"); do
    local l=${R[$1.msg.r$i]} b=0
    [ -n "${2:-}" ] && b=$(field "$l" broker_cpu_s)
    awk -v c="$(field "$l" cpu_s)" -v b="$b" -v n="$(field "$l" received)" \
      'BEGIN{ if (n > 0) printf "%.1f\n", (c + b) * 1e6 / n }'
  done | med
}
conn_per_cpu() { # SYS -> median full connects per proxy CPU-second
  for i in $(seq "$REPS"); do
    local l=${R[$1.conn.r$i]}
    awk -v c="$(field "$l" cpu_s)" -v n="$(field "$l" ok)" \
      'BEGIN{ if (c > 0) printf "%.0f\n", n / c }'
  done | med
}
echo
echo "| figure (median of $REPS, $WORKERS workers) | moat TLS | moat WSS | nginx WSS -> mosquitto ws |"
echo "| --- | ---: | ---: | ---: |"
echo "| proxy CPU per 64 B QoS 0 message, 2 x $RATE msg/s (µs) | $(us_per_msg moat-tls) | $(us_per_msg moat-wss) | $(us_per_msg nginx-wss) |"
echo "| proxy + broker CPU per message, same load (µs) | $(us_per_msg moat-tls b) | $(us_per_msg moat-wss b) | $(us_per_msg nginx-wss b) |"
echo "| full connects per proxy CPU-second | $(conn_per_cpu moat-tls) | $(conn_per_cpu moat-wss) | $(conn_per_cpu nginx-wss) |"
echo
echo "raw lines:"
for k in $(printf '%s\n' "${!R[@]}" | sort); do echo "    $k: ${R[$k]}"; done
