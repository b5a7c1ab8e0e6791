#!/usr/bin/env bash
# bench/compare.sh - moat, HAProxy and nginx (Debian packages) and
# mosquitto itself, one after another in one run on this machine, with the
# same job: mutual TLS (same CA, CRL, server certificate), MQTT forwarded
# to the same local mosquitto. Writes bench/RESULTS.md.
#   bash bench/compare.sh            (after: meson setup build && ninja -C build)
# Environment: N_CONN (handshakes per run, 2000), CONC (50), SECONDS_PS (5),
# IDLE_COUNTS ("1000 9000"), IDLE_PACE (50: the idle connections are held
# twice, opened all at once and IDLE_PACE at a time).
# Everything listens on 127.0.0.1; every process started here is stopped by
# its PID at the end of its turn.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
B=$top/build/bench/moat-bench
MOAT=$top/build/moat
MOAT_WORKERS=${MOAT_WORKERS:-$(nproc)} # all cores, as the peers
N_CONN=${N_CONN:-2000}
CONC=${CONC:-50}
SECONDS_PS=${SECONDS_PS:-5}
IDLE_COUNTS=${IDLE_COUNTS:-"1000 9000"}
IDLE_PACE=${IDLE_PACE:-50}
SYSTEMS=${SYSTEMS:-"moat haproxy nginx mosquitto-tls"} # a subset for a quick A/B
OUT=${OUT:-bench/RESULTS.md}
[ -x "$B" ] && [ -x "$MOAT" ] || { echo "build first: meson setup build && ninja -C build"; exit 1; }
for c in haproxy nginx mosquitto openssl; do
  command -v $c >/dev/null || { echo "missing $c (bash scripts/install-deps.sh)"; exit 1; }
done
ulimit -n "$(ulimit -Hn)"

w=$(mktemp -d)
trap 'rm -rf "$w"' EXIT
bash tests/pki.sh "$w/pki" >/dev/null
P=$w/pki
cat "$P/server.crt" "$P/server.key" > "$P/server.pem"
TLS=(--ca "$P/ca.crt" --cert "$P/dev-good.crt" --key "$P/dev-good.key")
BROKER=18931 PORT=18932 DIRECT_TLS=18933

pids=()
stop_all() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do
    for _ in $(seq 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$p" 2>/dev/null || true
  done
  pids=()
}
broker_pid=
trap 'stop_all; [ -n "$broker_pid" ] && kill "$broker_pid" 2>/dev/null; rm -rf "$w"' EXIT

wait_port() { # PORT [LOG]
  for _ in $(seq 100); do
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
    sleep 0.1
  done
  echo "port $1 did not open"; [ -n "${2:-}" ] && tail -20 "$2"; return 1
}

# the proxy's processes: the PID and its children (nginx workers)
proc_pids() { echo "$1 $(pgrep -P "$1" | tr '\n' ' ')"; }
cpu_ticks() { # PIDs -> utime+stime in ticks
  local t=0 f
  for p in $1; do
    f=$(cut -d')' -f2 "/proc/$p/stat" 2>/dev/null) || continue
    t=$((t + $(echo "$f" | awk '{print $12 + $13}')))
  done
  echo $t
}
rss_kb() {
  local t=0 v
  for p in $1; do
    v=$(awk '/^VmRSS:/{print $2}' "/proc/$p/status" 2>/dev/null || echo 0)
    t=$((t + v))
  done
  echo $t
}
hz=$(getconf CLK_TCK)

# broker
printf 'listener %s 127.0.0.1\nallow_anonymous true\npersistence false\nmax_queued_messages 100000\nset_tcp_nodelay true\n' \
  "$BROKER" > "$w/broker.conf"
if (exec 3<>"/dev/tcp/127.0.0.1/$BROKER") 2>/dev/null; then
  echo "port $BROKER is taken (a broker left from an earlier run?)"; exit 1
fi
mosquitto -c "$w/broker.conf" > "$w/broker.log" 2>&1 &
broker_pid=$!
wait_port $BROKER "$w/broker.log"

start_moat() {
  cat > "$w/moat.yaml" <<EOF
workers: $MOAT_WORKERS
log: { level: warn }
limits: { max_connections: 100000, handshake_timeout: 30s, connect_timeout: 30s }
listeners:
  - name: mqtts
    bind: 127.0.0.1:$PORT
    upstream: b
    tls:
      cert: $P/server.crt
      key: $P/server.key
      client_ca: $P/ca.crt
      crl: $P/crl.pem
      session_tickets: true
    mqtt: { identity: none, client_id_must_match: false }
upstreams:
  - name: b
    health: { type: none }
    servers: [ { name: b1, address: 127.0.0.1:$BROKER } ]
stats: { socket: $w/moat.sock }
EOF
  "$MOAT" -c "$w/moat.yaml" > "$w/moat.log" 2>&1 &
  echo $!
}
start_haproxy() {
  cat > "$w/haproxy.cfg" <<EOF
global
    maxconn 9900
    nbthread $(nproc)
    ssl-default-bind-options ssl-min-ver TLSv1.2
defaults
    mode tcp
    timeout connect 5s
    timeout client 120s
    timeout server 120s
frontend mqtts
    bind 127.0.0.1:$PORT ssl crt $P/server.pem ca-file $P/ca.crt verify required crl-file $P/crl.pem
    default_backend b
backend b
    server b1 127.0.0.1:$BROKER
EOF
  haproxy -db -f "$w/haproxy.cfg" > "$w/haproxy.log" 2>&1 &
  echo $!
}
start_nginx() {
  mkdir -p "$w/nginx"
  cat > "$w/nginx.conf" <<EOF
load_module /usr/lib/nginx/modules/ngx_stream_module.so;
worker_processes auto;
worker_rlimit_nofile 20000;
daemon off;
pid $w/nginx/nginx.pid;
error_log $w/nginx/error.log warn;
events { worker_connections 9900; }
stream {
    server {
        listen 127.0.0.1:$PORT ssl;
        ssl_certificate $P/server.crt;
        ssl_certificate_key $P/server.key;
        ssl_client_certificate $P/ca.crt;
        ssl_verify_client on;
        ssl_verify_depth 3;
        ssl_crl $P/crl.pem;
        ssl_protocols TLSv1.2 TLSv1.3;
        ssl_session_tickets on;
        proxy_pass 127.0.0.1:$BROKER;
    }
}
EOF
  nginx -c "$w/nginx.conf" -p "$w/nginx" > "$w/nginx.log" 2>&1 &
  echo $!
}
start_mosquitto_tls() {
  cat > "$w/mtls.conf" <<EOF
listener $PORT 127.0.0.1
cafile $P/ca.crt
certfile $P/server.crt
keyfile $P/server.key
require_certificate true
crlfile $P/crl.pem
allow_anonymous true
persistence false
set_tcp_nodelay true
# as root it would become user mosquitto, who cannot read the PKI here
user root
EOF
  mosquitto -c "$w/mtls.conf" > "$w/mosquitto-tls.log" 2>&1 &
  echo $!
}

declare -A R
cmds=()
# run NAME KEY PIDS -- bench args... : records the bench line and proxy CPU
run() {
  local sys=$1 key=$2 pp=$3; shift 4
  local c0 c1 out
  c0=$(cpu_ticks "$pp")
  out=$("$B" "$@" 2>&1 | tail -1)
  c1=$(cpu_ticks "$pp")
  R[$sys.$key]=$out
  R[$sys.$key.cpu]=$(awk -v a="$c0" -v b="$c1" -v hz="$hz" 'BEGIN{printf "%.3f", (b-a)/hz}')
  cmds+=("$B $*")
  echo "$sys $key: $out cpu_s=${R[$sys.$key.cpu]}"
}
field() { echo "$1" | tr ' ' '\n' | awk -F= -v k="$2" '$1==k{print $2}'; }

start_sys() { # SYS -> sets pid, pp
  case $1 in
    moat) pid=$(start_moat) ;;
    haproxy) pid=$(start_haproxy) ;;
    nginx) pid=$(start_nginx) ;;
    mosquitto-tls) pid=$(start_mosquitto_tls) ;;
  esac
  pids=("$pid")
  wait_port $PORT "$w/$1.log"
  sleep 0.5
  pp=$(proc_pids "$pid")
}

for sys in $SYSTEMS; do
  start_sys $sys
  run $sys full "$pp" -- connect -H 127.0.0.1:$PORT "${TLS[@]}" -c "$CONC" -n "$N_CONN"
  run $sys resumed "$pp" -- connect -H 127.0.0.1:$PORT "${TLS[@]}" -c "$CONC" -n "$N_CONN" -r
  if [ $sys != mosquitto-tls ]; then
    run $sys q0 "$pp" -- pubsub -H 127.0.0.1:$PORT "${TLS[@]}" -p 2 -s 64 -q 0 -t "$SECONDS_PS"
    run $sys q1 "$pp" -- pubsub -H 127.0.0.1:$PORT "${TLS[@]}" -p 2 -s 1024 -q 1 -t "$SECONDS_PS"
    run $sys lat "$pp" -- pubsub -H 127.0.0.1:$PORT "${TLS[@]}" -p 2 -s 64 -q 0 -R 1000 -t "$SECONDS_PS"
  fi
  # "" all at once (a fleet reconnecting), "p": IDLE_PACE at a time; each
  # on a fresh process (memory freed by a run stays in the process and
  # would be counted as the next run's base)
  for n in $IDLE_COUNTS; do for pace in "" p; do
    stop_all
    sleep 1
    start_sys $sys
    base=$(rss_kb "$pp")
    heap0=$([ $sys = moat ] && "$MOAT" ctl -s "$w/moat.sock" show info | awk '/^heap_bytes/{print $2}' || echo 0)
    pacing=(); [ -n "$pace" ] && pacing=(-c "$IDLE_PACE")
    "$B" idle -H 127.0.0.1:$PORT "${TLS[@]}" -n "$n" "${pacing[@]}" -t 60 > "$w/idle.out" 2>&1 &
    bp=$!
    cmds+=("$B idle -H 127.0.0.1:$PORT ${TLS[*]} -n $n ${pacing[*]} -t 60")
    for _ in $(seq 600); do grep -q "^ready" "$w/idle.out" && break; sleep 0.1; done
    # read after 3 s of idling (moat gives back the scratch pages its
    # handshakes no longer use once they have been free for a second)
    sleep 3
    held=$(rss_kb "$(proc_pids "$pid")")
    if [ $sys = moat ]; then
      heap1=$("$MOAT" ctl -s "$w/moat.sock" show info | awk '/^heap_bytes/{print $2}')
      R[moat.heap$pace$n]=$(awk -v a="$heap0" -v b="$heap1" -v n="$n" 'BEGIN{printf "%.1f", (b-a)/n/1000}')
    fi
    kill "$bp" 2>/dev/null || true; wait "$bp" 2>/dev/null || true
    R[$sys.idle$pace$n]=$(awk -v a="$base" -v b="$held" -v n="$n" 'BEGIN{printf "%.1f", (b-a)*1024/n/1000}')
    R[$sys.idle$pace$n.ready]=$(grep -c "^ready" "$w/idle.out" || true)
    echo "$sys idle $n${pace:+ paced}: ${R[$sys.idle$pace$n]} KB/connection (ready=${R[$sys.idle$pace$n.ready]})"
    sleep 1
  done; done
  stop_all
  sleep 1
done
# the broker directly, plaintext: the reference for throughput
pp=$(proc_pids "$broker_pid")
run direct q0 "$pp" -- pubsub -H 127.0.0.1:$BROKER --plain -p 2 -s 64 -q 0 -t "$SECONDS_PS"
run direct q1 "$pp" -- pubsub -H 127.0.0.1:$BROKER --plain -p 2 -s 1024 -q 1 -t "$SECONDS_PS"
run direct lat "$pp" -- pubsub -H 127.0.0.1:$BROKER --plain -p 2 -s 64 -q 0 -R 1000 -t "$SECONDS_PS"
kill "$broker_pid" 2>/dev/null || true; wait "$broker_pid" 2>/dev/null || true
broker_pid=

# ---- RESULTS.md ----
set +u # a SYSTEMS subset leaves the others' figures empty
per_cpu() { # sys key -> connections per proxy CPU-second
  local ok cpu
  ok=$(field "${R[$1.$2]}" ok); cpu=${R[$1.$2.cpu]}
  awk -v o="$ok" -v c="$cpu" 'BEGIN{ if (c > 0) printf "%.0f", o/c; else print "-" }'
}
us_per_msg() {
  local n cpu
  n=$(field "${R[$1.$2]}" received); cpu=${R[$1.$2.cpu]}
  awk -v n="$n" -v c="$cpu" 'BEGIN{ if (n > 0) printf "%.2f", c*1e6/n; else print "-" }'
}
ratio() { awk -v a="$1" -v b="$2" 'BEGIN{ if (a+0 > 0 && b+0 > 0) printf "%.2f", a/b; else print "-" }'; }
{
  echo "# moat benchmark results"
  echo
  echo "Made by \`MOAT_WORKERS=$MOAT_WORKERS N_CONN=$N_CONN CONC=$CONC SECONDS_PS=$SECONDS_PS IDLE_COUNTS='$IDLE_COUNTS' IDLE_PACE=$IDLE_PACE bash bench/compare.sh\`"
  echo "on $(date -u +%Y-%m-%d) (one run; every system"
  echo "in turn, same machine, same PKI, same broker). Machine: $(nproc) cores,"
  echo "$(awk '/MemTotal/{printf "%.0f GiB", $2/1048576}' /proc/meminfo), $(uname -sr)."
  echo "Versions: $("$MOAT" --version | head -1 | cut -c1-60); $(haproxy -v | head -1 | cut -c1-40);"
  echo "$(nginx -v 2>&1 | head -1); $(mosquitto -h 2>/dev/null | head -1 | cut -c1-40); $(openssl version)."
  echo "moat runs $MOAT_WORKERS workers (threads); HAProxy runs $(nproc) threads and nginx"
  echo "$(nproc) workers. TLS 1.3, ECDSA P-256, client certificates required, CRL"
  echo "loaded; the load generator (\`build/bench/moat-bench\`) shares the machine,"
  echo "so the figures that compare proxies are their own CPU seconds (from"
  echo "/proc) per connection and per message; rates are also shown. The"
  echo "ratio columns are the peer's figure divided by moat's, row by row: for"
  echo "handshakes per CPU-second below 1 means moat does more; for CPU per"
  echo "message and RSS per connection above 1 means moat needs less."
  echo
  echo "| figure | moat | HAProxy | nginx | mosquitto TLS | HAProxy/moat | nginx/moat |"
  echo "| --- | ---: | ---: | ---: | ---: | ---: | ---: |"
  for k in full resumed; do
    m=$(per_cpu moat $k); h=$(per_cpu haproxy $k); n=$(per_cpu nginx $k); q=$(per_cpu mosquitto-tls $k)
    echo "| $k mTLS handshakes per proxy CPU-second | $m | $h | $n | $q | $(ratio "$h" "$m") | $(ratio "$n" "$m") |"
  done
  for k in full resumed; do
    echo "| $k handshakes/s (client-bound) | $(field "${R[moat.$k]}" conn_per_s) | $(field "${R[haproxy.$k]}" conn_per_s) | $(field "${R[nginx.$k]}" conn_per_s) | $(field "${R[mosquitto-tls.$k]}" conn_per_s) | | |"
    echo "| $k handshake p99 ms | $(field "${R[moat.$k]}" p99_ms) | $(field "${R[haproxy.$k]}" p99_ms) | $(field "${R[nginx.$k]}" p99_ms) | $(field "${R[mosquitto-tls.$k]}" p99_ms) | | |"
  done
  for k in q0 q1; do
    label=$([ $k = q0 ] && echo "64 B QoS 0" || echo "1 KiB QoS 1")
    m=$(us_per_msg moat $k); h=$(us_per_msg haproxy $k); n=$(us_per_msg nginx $k)
    echo "| proxy CPU µs per $label message | $m | $h | $n | | $(ratio "$h" "$m") | $(ratio "$n" "$m") |"
    echo "| $label messages/s (direct: $(field "${R[direct.$k]}" msg_per_s)) | $(field "${R[moat.$k]}" msg_per_s) | $(field "${R[haproxy.$k]}" msg_per_s) | $(field "${R[nginx.$k]}" msg_per_s) | | | |"
  done
  d50=$(field "${R[direct.lat]}" p50_ms); d99=$(field "${R[direct.lat]}" p99_ms)
  added() { awk -v a="$(field "${R[$1.lat]}" p99_ms)" -v b="$d99" 'BEGIN{ if (a != "") printf "%.0f", (a-b)*1000; else print "-" }'; }
  echo "| p99 ms end to end, 2 x 1,000 msg/s of 64 B QoS 0 (direct: $d99, p50 $d50) | $(field "${R[moat.lat]}" p99_ms) | $(field "${R[haproxy.lat]}" p99_ms) | $(field "${R[nginx.lat]}" p99_ms) | | | |"
  echo "| added p99 µs over the direct path (TLS included) | $(added moat) | $(added haproxy) | $(added nginx) | | | |"
  for n in $IDLE_COUNTS; do for pace in "" p; do
    how=$([ -n "$pace" ] && echo "opened $IDLE_PACE at a time" || echo "opened all at once")
    m=${R[moat.idle$pace$n]}; h=${R[haproxy.idle$pace$n]}; g=${R[nginx.idle$pace$n]}; q=${R[mosquitto-tls.idle$pace$n]}
    echo "| RSS KB per idle mTLS MQTT connection ($n held, $how) | $m | $h | $g | $q | $(ratio "$h" "$m") | $(ratio "$g" "$m") |"
    echo "| moat heap KB per idle connection ($n held, $how, \`show info\` heap_bytes) | ${R[moat.heap$pace$n]:--} | | | | | |"
  done; done
  echo
  echo "Raw lines (\`key: moat-bench output, proxy cpu_s\`):"
  echo
  echo '```'
  for k in "${!R[@]}"; do
    case $k in *.cpu|*.ready) ;; *) echo "$k: ${R[$k]} cpu_s=${R[$k.cpu]:-}" ;; esac
  done | sort
  echo '```'
  echo
  echo "Commands (ADDR is each system's listener in turn):"
  echo
  echo '```'
  printf '%s\n' "${cmds[@]}" | sed "s|$w|\$TMP|g; s|$top/||g" | sort -u
  echo '```'
} > "$OUT"
echo "wrote $OUT"
