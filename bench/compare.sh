#!/usr/bin/env bash
# bench/compare.sh - moat, HAProxy and nginx (Debian packages) and
# mosquitto itself, one after another in one run on this machine, with the
# same job: mutual TLS (same CA, CRL, server certificate), MQTT forwarded
# to the same local mosquitto. Writes bench/RESULTS.md.
#   bash bench/compare.sh            (after: meson setup build && ninja -C build)
# Environment: WORKERS (threads or worker processes of every proxy: all
# cores), N_CONN (handshakes per run, 2000), CONC (50), N_NAGLE (connects
# per run of three clients that leave Nagle on, 600), SECONDS_PS (5),
# IDLE_COUNTS ("1000 9000"), IDLE_PACE (50: the idle connections are held
# twice, opened all at once and IDLE_PACE at a time), ONE_WORKER (1: the
# 64 B QoS 0 runs again with one worker each; 0 skips them), REPS (3: each
# pubsub run is made REPS times, the table shows the median), PARTS
# ("handshakes forwarding idle shared tokens": which parts to run; "shared"
# is resumed connects alternating between two instances of moat, and of
# HAProxy, that share a ticket key file; "tokens" is build/bench/token-bench
# and a moat with verify_client: optional and mqtt.token, connects with a
# certificate and without one but with an ES256 or RS256 token),
# SHARED_WORKERS (each of the two instances of the "shared" part: half the
# cores), GROUP (the clients' key share: x25519, as OpenSSL's clients, or
# p256), GROUP2 (the connect and shared rows again with this key share: the
# other one; empty skips them), PLACEMENT (moat's worker_placement, pack).
# RESULTS.md keeps what follows its line "<!-- kept by compare.sh -->"
# (hand-written sections: profiles, several runs) when it is rewritten.
# Everything listens on 127.0.0.1; every process started here is stopped by
# its PID at the end of its turn.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
B=$top/build/bench/moat-bench
TB=$top/build/bench/token-bench
MOAT=$top/build/moat
WORKERS=${WORKERS:-${MOAT_WORKERS:-$(nproc)}} # all cores, every proxy
ONE_WORKER=${ONE_WORKER:-1}
REPS=${REPS:-3} # pubsub runs of each kind; the table shows their median
N_CONN=${N_CONN:-2000}
CONC=${CONC:-50}
N_NAGLE=${N_NAGLE:-600} # connects per run of the three Nagle-on clients
SECONDS_PS=${SECONDS_PS:-5}
IDLE_COUNTS=${IDLE_COUNTS:-"1000 9000"}
IDLE_PACE=${IDLE_PACE:-50}
PLACEMENT=${PLACEMENT:-pack} # moat's worker_placement
SHARED_WORKERS=${SHARED_WORKERS:-$(((WORKERS + 1) / 2))} # each of the two instances'
GROUP=${GROUP:-x25519} # the clients' key share: x25519 (OpenSSL clients) or p256
# the connect and shared rows again with the other key share ("" skips them)
GROUP2=${GROUP2-$([ "$GROUP" = x25519 ] && echo p256 || echo x25519)}
KINDS="full resumed${GROUP2:+ full-$GROUP2 resumed-$GROUP2}"
SYSTEMS=${SYSTEMS:-"moat haproxy nginx mosquitto-tls"} # a subset for a quick A/B
PARTS=${PARTS:-"handshakes forwarding idle shared tokens"}
want() { [[ " $PARTS " == *" $1 "* ]]; }
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
TLS=(--ca "$P/ca.crt" --cert "$P/dev-good.crt" --key "$P/dev-good.key" --group "$GROUP")
BROKER=18931 PORT= # each system's own: port_of

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
trap 'stop_all; [ -n "$broker_pid" ] && kill "$broker_pid" 2>/dev/null; cg_drop; rm -rf "$w"' EXIT

wait_port() { # PORT [LOG]
  for _ in $(seq 100); do
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
    sleep 0.1
  done
  echo "port $1 did not open"; [ -n "${2:-}" ] && tail -20 "$2"; return 1
}

# the proxy's processes: the PID and its children (nginx workers)
proc_pids() { echo "$1 $(pgrep -P "$1" | tr '\n' ' ')"; }
cpu_now() { # PIDs -> "CPU ns of all their threads, stime in ticks"
  # (utime+stime in /proc/PID/stat move by whole 10 ms ticks, per field
  # and per process: a quarter-second run of two instances was off by 10%;
  # schedstat has the nanoseconds, where the kernel keeps it)
  local p k=0 n=0 u s
  for p in $1; do
    read -r u s < <(cut -d')' -f2 "/proc/$p/stat" 2>/dev/null | awk '{print $12, $13}')
    [ -n "$u" ] || continue
    k=$((k + s))
    if [ -r "/proc/$p/schedstat" ]; then
      n=$((n + $(cat /proc/"$p"/task/*/schedstat 2>/dev/null | awk '{n += $1} END {printf "%.0f", n}')))
    else
      n=$((n + (u + s) * 1000000000 / hz))
    fi
  done
  echo $n $k
}
ctx_switches() { # PIDs -> context switches of all their threads so far
  local p
  for p in $1; do cat /proc/"$p"/task/*/status 2>/dev/null; done |
    awk '/ctxt_switches/{n += $2} END {print n + 0}'
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
# system calls per message need perf (linux-perf) and tracepoint access
PERF=
if command -v perf >/dev/null && perf stat -x, -e raw_syscalls:sys_enter -o /dev/null -- true 2>/dev/null; then PERF=1; fi

# Kernel memory billed to the proxy: its processes are moved into a memory
# cgroup of their own (v1 memory.kmem.usage_in_bytes, or v2 memory.stat's
# `kernel`), read before and after the idle connections are opened. What
# is billed: the sockets, files, epoll entries the proxy creates. An
# accepted socket's struct tcp_sock is built by the kernel while it
# answers the SYN and is not billed, so the figure is a floor; the
# machine-wide slab growth (which also holds the client's and broker's
# sockets, the same for every system) is reported next to it.
cg=
cg_setup() { # -> sets cg to a fresh memory cgroup dir, or leaves it empty
  local rel base
  cg=
  rel=$(awk -F: '$2=="memory"{print $3}' /proc/self/cgroup)
  if [ -n "$rel" ] && [ -r /sys/fs/cgroup/memory/memory.kmem.usage_in_bytes ]; then
    base=/sys/fs/cgroup/memory${rel%/}
  else
    rel=$(awk -F: '$1=="0"{print $3}' /proc/self/cgroup)
    base=/sys/fs/cgroup${rel%/}
    grep -qw memory "$base/cgroup.subtree_control" 2>/dev/null || return 0
  fi
  mkdir "$base/moat-bench-$$" 2>/dev/null && cg=$base/moat-bench-$$ || true
}
cg_move() { # PIDS
  [ -n "$cg" ] || return 0
  for p in $1; do echo "$p" > "$cg/cgroup.procs" 2>/dev/null || { cg_drop; return 0; }; done
}
cg_kmem() { # -> bytes of kernel memory billed to $cg
  if [ -r "$cg/memory.kmem.usage_in_bytes" ]; then cat "$cg/memory.kmem.usage_in_bytes"
  else awk '$1=="kernel"{print $2}' "$cg/memory.stat"; fi
}
cg_drop() { # after stop_all: the cgroup is empty once the processes are gone
  [ -n "$cg" ] || return 0
  for _ in $(seq 50); do rmdir "$cg" 2>/dev/null && break; sleep 0.1; done
  cg=
}
slab_kb() { awk '/^Slab:/{print $2}' /proc/meminfo; }

# broker
printf 'listener %s 127.0.0.1\nallow_anonymous true\npersistence false\nmax_queued_messages 100000\nset_tcp_nodelay true\n' \
  "$BROKER" > "$w/broker.conf"
if (exec 3<>"/dev/tcp/127.0.0.1/$BROKER") 2>/dev/null; then
  echo "port $BROKER is taken (a broker left from an earlier run?)"; exit 1
fi
mosquitto -c "$w/broker.conf" > "$w/broker.log" 2>&1 &
broker_pid=$!
wait_port $BROKER "$w/broker.log"

# moat-acl: 20 topic rules, the one that lets the bench's topics through
# 19th, so that every PUBLISH is matched against 19 of them (placeholders
# expanded per connection, as in a fleet's rules)
acl_rules() {
  echo "      acl:"
  echo "        no_match: deny"
  echo "        rules:"
  for k in $(seq 1 18); do
    echo "          - { deny: publish, topics: [\"fleet/%c/r$k/#\", \"site/+/r$k/%c\"] }"
  done
  echo "          - { allow: all, topics: [\"bench/+\"] }"
  echo "          - { deny: all, topics: [\"#\"] }"
}
start_moat() { # [SUFFIX]: a second instance's files; with KEYS: tls.ticket_keys;
  # with TOKENS (a JWK Set): verify_client optional and mqtt.token
  local i=${1:-}
  cat > "$w/moat$i.yaml" <<EOF
workers: $nw
worker_placement: $PLACEMENT
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
$([ -n "${KEYS:-}" ] && echo "      ticket_keys: $KEYS")
$([ -n "${TOKENS:-}" ] && echo "      verify_client: optional")
    mqtt:
      identity: none
      client_id_must_match: false
$([ -n "${TOKENS:-}" ] && echo "      token: { when: no_cert, jwks: $TOKENS, issuer: $TOK_ISS, audience: mqtt, algorithms: [ES256, RS256] }")
$([ "$i" = "-acl" ] && acl_rules)
upstreams:
  - name: b
    health: { type: none }
    servers: [ { name: b1, address: 127.0.0.1:$BROKER } ]
stats: { socket: $w/moat$i.sock }
EOF
  "$MOAT" -c "$w/moat$i.yaml" > "$w/moat$i.log" 2>&1 &
  echo $!
}
start_haproxy() { # [SUFFIX]; with HKEYS: tls-ticket-keys
  local i=${1:-}
  cat > "$w/haproxy$i.cfg" <<EOF
global
    maxconn 9900
    nbthread $nw
    ssl-default-bind-options ssl-min-ver TLSv1.2
defaults
    mode tcp
    timeout connect 5s
    timeout client 120s
    timeout server 120s
frontend mqtts
    bind 127.0.0.1:$PORT ssl crt $P/server.pem ca-file $P/ca.crt verify required crl-file $P/crl.pem${HKEYS:+ tls-ticket-keys $HKEYS}
    default_backend b
backend b
    server b1 127.0.0.1:$BROKER
EOF
  haproxy -db -f "$w/haproxy$i.cfg" > "$w/haproxy$i.log" 2>&1 &
  echo $!
}
start_nginx() {
  mkdir -p "$w/nginx"
  cat > "$w/nginx.conf" <<EOF
load_module /usr/lib/nginx/modules/ngx_stream_module.so;
worker_processes $nw;
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
# run NAME KEY PIDS -- bench args... : records the bench line and proxy CPU.
# A pubsub run's figures count from the moment every pair is subscribed
# (the bench prints "ready", and counts its messages from then): what the
# connections cost to set up is the connect rows' figure, and would
# otherwise weigh on the 200-device row. proxy_all_s is the CPU of the
# whole run, connects included.
count_from_here() { # (run's locals pp, perf_pid, c0, x0) the counting starts
  if [ -n "$PERF" ]; then # the proxy's system calls, counted by the kernel
    perf stat -x, -e raw_syscalls:sys_enter -p "$(echo $pp | tr ' ' ,)" -o "$w/perf.out" &
    perf_pid=$!
  fi
  c0=($(cpu_now "$pp")); x0=$(ctx_switches "$pp")
}
run() {
  local sys=$1 key=$2 pp=$3; shift 4
  local ca c0 c1 x0 x1 out sc=0 perf_pid= bp
  ca=($(cpu_now "$pp"))
  if [ "$1" = pubsub ]; then
    "$B" "$@" > "$w/run.out" 2>&1 &
    bp=$!
    for _ in $(seq 600); do
      grep -q "^ready" "$w/run.out" && break
      kill -0 "$bp" 2>/dev/null || break
      sleep 0.05
    done
    count_from_here
    wait "$bp" || true
    out=$(tail -1 "$w/run.out")
  else
    count_from_here
    [ -z "$perf_pid" ] || sleep 0.2 # perf attached before the first connect
    out=$("$B" "$@" 2>&1 | tail -1)
  fi
  c1=($(cpu_now "$pp")); x1=$(ctx_switches "$pp")
  if [ -n "$perf_pid" ]; then
    kill -INT "$perf_pid" 2>/dev/null; wait "$perf_pid" 2>/dev/null || true
    sc=$(awk -F, '/raw_syscalls/{print $1 + 0}' "$w/perf.out")
  fi
  # the proxy's kernel share of its CPU, its threads' context switches and
  # (with perf) its system calls
  R[$sys.$key]="$out $(awk -v a="${c0[1]}" -v b="${c1[1]}" -v hz="$hz" -v x=$((x1 - x0)) -v sc="${sc:-0}" \
    -v all=$((c1[0] - ca[0])) 'BEGIN{printf "proxy_sys_s=%.3f proxy_csw=%d proxy_syscalls=%d proxy_all_s=%.4f", (b-a)/hz, x, sc, all/1e9}')"
  R[$sys.$key.cpu]=$(awk -v a="${c0[0]}" -v b="${c1[0]}" 'BEGIN{printf "%.4f", (b-a)/1e9}')
  cmds+=("$B $*")
  echo "$sys $key: $out cpu_s=${R[$sys.$key.cpu]}"
}
field() { echo "$1" | tr ' ' '\n' | awk -F= -v k="$2" '$1==k{print $2}'; }

# pubsub runs, 2 publisher/subscriber pairs each: flat out (q0, q1, s16,
# s16k, s64k) and at a fixed rate per pair, the same load for every system
# (mid: 2 x 5,000 msg/s, lat: 2 x 1,000 msg/s); fleet: 100 pairs at 100
# msg/s each, 200 devices whose connections spread over every worker
# (with 4 connections nginx's workers tend to take all of them in one)
declare -A SPEC=([q0]="-p 2 -s 64 -q 0" [q1]="-p 2 -s 1024 -q 1"
  [lat]="-p 2 -s 64 -q 0 -R 1000" [mid]="-p 2 -s 64 -q 0 -R 5000"
  [s16]="-p 2 -s 16 -q 0" [s16k]="-p 2 -s 16384 -q 0"
  [s64k]="-p 2 -s 65536 -q 0" [fleet]="-p 100 -s 64 -q 0 -R 100")
FWD=${FWD:-"q0 q1 mid lat fleet s16 s16k s64k"} FWD1=${FWD1:-"q0 mid lat"}
fwd_round() { # SUFFIX KEYS...: each pubsub kind REPS times on every proxy and direct
  local sfx=$1 k i sys; shift
  for ((i = 1; i <= REPS; i++)); do for k in "$@"; do for sys in $PROXIES direct direct-tls; do
    # shellcheck disable=SC2086
    if [ $sys = direct ]; then
      [ -z "$sfx" ] || continue
      run $sys $k.r$i "${PP[direct]}" -- pubsub -H 127.0.0.1:$BROKER --plain ${SPEC[$k]} -t "$SECONDS_PS"
    elif [ $sys = direct-tls ]; then
      # the same load over TLS straight to mosquitto's own listener: the
      # latency a device sees without a proxy but with its TLS
      [ -z "$sfx" ] && [ -n "${PP[mosquitto-tls]:-}" ] || continue
      case $k in lat | mid | fleet) ;; *) continue ;; esac
      run $sys $k.r$i "${PP[mosquitto-tls]}" -- pubsub -H 127.0.0.1:"$(port_of mosquitto-tls)" "${TLS[@]}" ${SPEC[$k]} -t "$SECONDS_PS"
    else
      run $sys $k$sfx.r$i "${PP[$sys]}" -- pubsub -H 127.0.0.1:"$(port_of $sys)" "${TLS[@]}" ${SPEC[$k]} -t "$SECONDS_PS"
    fi
  done; done; done
}

port_of() { # SYS -> its listener
  case $1 in moat) echo 18932 ;; mosquitto-tls) echo 18933 ;; haproxy) echo 18934 ;; nginx) echo 18935 ;;
    moat-a) echo 18936 ;; moat-b) echo 18937 ;; haproxy-a) echo 18938 ;; haproxy-b) echo 18939 ;;
    moat-tok) echo 18940 ;; moat-acl) echo 18941 ;; esac
}
declare -A PP
start_sys() { # SYS [WORKERS] -> sets pid, pp and PP[SYS]; stop_all stops it
  nw=${2:-$WORKERS}
  PORT=$(port_of "$1")
  if (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null; then
    echo "port $PORT is taken (a proxy left from an earlier run?)"; exit 1
  fi
  case $1 in
    moat) pid=$(start_moat) ;;
    haproxy) pid=$(start_haproxy) ;;
    moat-?|moat-tok|moat-acl) pid=$(start_moat "${1#moat}") ;;
    haproxy-?) pid=$(start_haproxy "${1#haproxy}") ;;
    nginx) pid=$(start_nginx) ;;
    mosquitto-tls) pid=$(start_mosquitto_tls) ;;
  esac
  pids+=("$pid")
  wait_port "$PORT" "$w/$1.log"
  sleep 0.5
  pp=$(proc_pids "$pid")
  PP[$1]=$pp
}
PROXIES=$(echo " $SYSTEMS " | sed 's/ mosquitto-tls / /g')

# Every system is up at once, each on its own port, and the runs take
# turns (rep by rep, kind by kind, system by system): a slow spell of
# this shared machine then falls on all of them, not on one.
if want handshakes || want forwarding; then
  for sys in $SYSTEMS; do start_sys "$sys"; done
fi
want handshakes && for ((i = 1; i <= REPS; i++)); do
  for k in $KINDS; do for sys in $SYSTEMS; do
    r=(); [[ $k = resumed* ]] && r=(-r)
    [[ $k = *-$GROUP2 ]] && r+=(--group "$GROUP2")
    run $sys $k.r$i "${PP[$sys]}" -- connect -H 127.0.0.1:"$(port_of $sys)" "${TLS[@]}" -c "$CONC" -n "$N_CONN" "${r[@]}"
  done; done
  # three clients as they are: Nagle's algorithm left on (libmosquitto,
  # paho), connecting in a loop, full and resumed, TLS 1.3 and 1.2
  for k in nagle nagle-resumed nagle12 nagle12-resumed; do for sys in $SYSTEMS; do
    r=(); [[ $k = *-resumed ]] && r=(-r)
    [[ $k = nagle12* ]] && r+=(--tls12)
    run $sys $k.r$i "${PP[$sys]}" -- connect -H 127.0.0.1:"$(port_of $sys)" "${TLS[@]}" --nagle -c 3 -n "$N_NAGLE" "${r[@]}"
  done; done
done
PP[direct]=$(proc_pids "$broker_pid")
want forwarding && fwd_round "" $FWD
stop_all
# Several instances: two moat processes reading one tls.ticket_keys file,
# and two HAProxy processes with one tls-ticket-keys file (the same keys:
# base64 of each 80-byte record, one a line; HAProxy wants 3), and
# reconnects alternating between the two instances of each: every
# connect after the first resumes the first one's ticket on either.
if want shared; then
  KEYS=$w/ticket-keys.bin HKEYS=$w/ticket-keys.haproxy
  bash scripts/ticket-keys.sh new "$KEYS" >/dev/null
  bash scripts/ticket-keys.sh rotate "$KEYS" >/dev/null
  bash scripts/ticket-keys.sh rotate "$KEYS" >/dev/null
  for ((k = 0; k < 3; k++)); do
    tail -c +$((k * 80 + 1)) "$KEYS" | head -c 80 | base64 -w0; echo
  done > "$HKEYS"
  SHARED_SYS=$(for s in moat haproxy; do [[ " $SYSTEMS " != *" $s "* ]] || echo $s; done)
  # two instances on this one machine: each gets its share of the cores,
  # as each would have a machine of its own (with all cores each, the
  # four threads take turns on two cores)
  for sys in $SHARED_SYS; do start_sys $sys-a "$SHARED_WORKERS"; start_sys $sys-b "$SHARED_WORKERS"; done
  for ((i = 1; i <= REPS; i++)); do for k in shared${GROUP2:+ shared-$GROUP2}; do for sys in $SHARED_SYS; do
    r=(); [[ $k = *-$GROUP2 ]] && r=(--group "$GROUP2")
    run $sys $k.r$i "${PP[$sys-a]} ${PP[$sys-b]}" -- connect -H 127.0.0.1:"$(port_of $sys-a)" \
      -H 127.0.0.1:"$(port_of $sys-b)" "${TLS[@]}" -c "$CONC" -n "$N_CONN" -r "${r[@]}"
  done; done; done
  stop_all
  unset KEYS HKEYS
fi
# Tokens: what verifying an access token costs by itself (token-bench, one
# thread, REPS times) and a token CONNECT next to a certificate handshake
# through one moat (verify_client: optional, mqtt.token when: no_cert):
# connects with the client certificate, and without one but with an ES256
# or RS256 token as the CONNECT password, full and resumed, taking turns.
TOK_ISS=https://auth.bench/
if want tokens; then
  T=$w/tok; mkdir -p "$T"
  python3 - "$T" "$TOK_ISS" <<'PY'
import json, sys, time
sys.path.insert(0, "tests")
import jwt_tool
d, iss = sys.argv[1], sys.argv[2]
kinds = {"ES256": ("P-256", "k-es256"), "ES384": ("P-384", "k-es384"),
         "RS256": ("RSA2048", "k-rsa"), "PS256": ("RSA2048", "k-rsa"),
         "EdDSA": ("Ed25519", "k-ed")}
keys = {}
for alg, (kind, kid) in kinds.items():
    keys.setdefault(kid, jwt_tool.genkey(f"{d}/{kid}.pem", kind))
with open(f"{d}/jwks.json", "w") as f:
    json.dump({"keys": [jwt_tool.jwk(p, k) for k, p in keys.items()]}, f)
claims = {"iss": iss, "aud": "mqtt", "sub": "dev-bench", "exp": int(time.time()) + 86400}
for alg, (kind, kid) in kinds.items():
    with open(f"{d}/{alg}.tok", "w") as f:
        f.write(jwt_tool.token(alg, keys[kid], claims, {"kid": kid}) + "\n")
PY
  TOK_ALGS="ES256 ES384 RS256 PS256 EdDSA"
  for ((i = 1; i <= REPS; i++)); do for a in $TOK_ALGS; do
    R[tokbench.$a.r$i]=$("$TB" -t 1 -i "$TOK_ISS" -a mqtt "$T/jwks.json" "$T/$a.tok" | tail -1)
    echo "token-bench $a: ${R[tokbench.$a.r$i]}"
  done; done
  cmds+=("$TB -t 1 -i $TOK_ISS -a mqtt $T/jwks.json $T/ALG.tok")
  TOKENS=$T/jwks.json start_sys moat-tok
  CA=(--ca "$P/ca.crt")
  for ((i = 1; i <= REPS; i++)); do for k in full resumed; do
    r=(); [ $k = resumed ] && r=(-r)
    for v in cert ES256 RS256; do
      if [ $v = cert ]; then a=("${TLS[@]}"); else a=("${CA[@]}" --token-file "$T/$v.tok"); fi
      run moat tok.$k.$v.r$i "${PP[moat-tok]}" -- connect -H 127.0.0.1:"$(port_of moat-tok)" "${a[@]}" -c "$CONC" -n "$N_CONN" "${r[@]}"
    done
  done; done
  R[moat.tok.info]=$("$MOAT" ctl -s "$w/moat-tok.sock" show info | awk '/^(tokens_ok|handshakes_ok|reject_token)/{sub(/:$/, "", $1); printf "%s=%s ", $1, $2}')
  stop_all
fi
if want forwarding && [ "$ONE_WORKER" = 1 ] && [ "$WORKERS" != 1 ]; then
  sleep 1
  for sys in $PROXIES; do start_sys "$sys" 1; done
  fwd_round .w1 $FWD1
  stop_all
fi
sleep 1

want idle && for sys in $SYSTEMS; do
  # "" all at once (a fleet reconnecting), "p": IDLE_PACE at a time; each
  # on a fresh process (memory freed by a run stays in the process and
  # would be counted as the next run's base)
  for n in $IDLE_COUNTS; do for pace in "" p; do
    stop_all
    sleep 1
    start_sys $sys
    cg_setup; cg_move "$pp"
    base=$(rss_kb "$pp"); slab0=$(slab_kb); k0=$([ -n "$cg" ] && cg_kmem || true)
    heap0=$([ $sys = moat ] && "$MOAT" ctl -s "$w/moat.sock" show info | awk '/^heap_bytes/{print $2}' || echo 0)
    pacing=(); [ -n "$pace" ] && pacing=(-c "$IDLE_PACE")
    "$B" idle -H 127.0.0.1:$PORT "${TLS[@]}" -n "$n" "${pacing[@]}" -t 60 > "$w/idle.out" 2>&1 &
    bp=$!
    cmds+=("$B idle -H 127.0.0.1:$PORT ${TLS[*]} -n $n ${pacing[*]} -t 60")
    for _ in $(seq 600); do grep -q "^ready" "$w/idle.out" && break; sleep 0.1; done
    # read after 3 s of idling (moat gives back the scratch pages its
    # handshakes no longer use once they have been free for a second)
    sleep 3
    held=$(rss_kb "$(proc_pids "$pid")"); slab1=$(slab_kb); k1=$([ -n "$cg" ] && cg_kmem || true)
    R[$sys.slab$pace$n]=$(awk -v a="$slab0" -v b="$slab1" -v n="$n" 'BEGIN{printf "%.1f", (b-a)*1024/n/1000}')
    R[$sys.kmem$pace$n]=$(awk -v a="$k0" -v b="$k1" -v n="$n" 'BEGIN{ if (b != "") printf "%.1f", (b-a)/n/1000; else print "-" }')
    if [ $sys = moat ]; then
      heap1=$("$MOAT" ctl -s "$w/moat.sock" show info | awk '/^heap_bytes/{print $2}')
      R[moat.heap$pace$n]=$(awk -v a="$heap0" -v b="$heap1" -v n="$n" 'BEGIN{printf "%.1f", (b-a)/n/1000}')
    fi
    kill "$bp" 2>/dev/null || true; wait "$bp" 2>/dev/null || true
    R[$sys.idle$pace$n]=$(awk -v a="$base" -v b="$held" -v n="$n" 'BEGIN{printf "%.1f", (b-a)*1024/n/1000}')
    R[$sys.idle$pace$n.ready]=$(grep -c "^ready" "$w/idle.out" || true)
    if [ "${R[$sys.idle$pace$n.ready]}" = 0 ]; then # not all connected
      R[$sys.idle$pace$n]="not all opened"; R[$sys.kmem$pace$n]=-; R[$sys.slab$pace$n]=-
      [ $sys = moat ] && R[moat.heap$pace$n]=-
    fi
    echo "$sys idle $n${pace:+ paced}: ${R[$sys.idle$pace$n]} KB/connection, kernel ${R[$sys.kmem$pace$n]} KB billed, slab ${R[$sys.slab$pace$n]} KB machine-wide (ready=${R[$sys.idle$pace$n.ready]})"
    sleep 1
    stop_all; cg_drop
  done; done
  stop_all
  sleep 1
done
kill "$broker_pid" 2>/dev/null || true; wait "$broker_pid" 2>/dev/null || true
broker_pid=

# ---- RESULTS.md ----
set +u # a SYSTEMS subset leaves the others' figures empty
per_cpu() { # -> handshakes per proxy CPU-second (of a connect run)
  awk -v o="$(field "$1" ok)" -v c="$2" 'BEGIN{ if (c > 0) printf "%.0f", o/c; else print "-" }'
}
# figures of one pubsub run, from its bench line and the proxy's CPU seconds
us_per_msg() { # -> proxy CPU µs per message delivered
  awk -v n="$(field "$1" received)" -v c="$2" 'BEGIN{ if (n > 0) printf "%.2f", c*1e6/n; else print "-" }'
}
sys_per_msg() { # -> the kernel's part of the proxy's CPU, µs per message
  awk -v n="$(field "$1" received)" -v c="$(field "$1" proxy_sys_s)" \
    'BEGIN{ if (n > 0 && c != "") printf "%.2f", c*1e6/n; else print "-" }'
}
csw_per_msg() { # -> the proxy threads' context switches per message
  awk -v n="$(field "$1" received)" -v c="$(field "$1" proxy_csw)" \
    'BEGIN{ if (n > 0 && c != "") printf "%.2f", c/n; else print "-" }'
}
us_per_msg_all() { # -> the same, the CPU of connecting every pair included
  awk -v n="$(field "$1" received)" -v c="$(field "$1" proxy_all_s)" \
    'BEGIN{ if (n > 0 && c != "") printf "%.2f", c*1e6/n; else print "-" }'
}
us_per_carried() { # -> proxy CPU µs per message carried: publisher to broker plus broker to subscriber
  awk -v n="$(field "$1" received)" -v s="$(field "$1" sent)" -v c="$2" \
    'BEGIN{ if (n + s > 0) printf "%.2f", c*1e6/(n+s); else print "-" }'
}
sc_per_msg() { # -> the proxy's system calls per message delivered (perf)
  awk -v n="$(field "$1" received)" -v c="$(field "$1" proxy_syscalls)" \
    'BEGIN{ if (n > 0 && c > 0) printf "%.2f", c/n; else print "-" }'
}
sc_per_carried() { # -> system calls per message carried
  awk -v n="$(field "$1" received)" -v s="$(field "$1" sent)" -v c="$(field "$1" proxy_syscalls)" \
    'BEGIN{ if (n + s > 0 && c > 0) printf "%.2f", c/(n+s); else print "-" }'
}
ms_per_mb() { # -> proxy CPU ms per MB of payload delivered
  awk -v n="$(field "$1" received)" -v s="$(field "$1" size)" -v c="$2" \
    'BEGIN{ if (n > 0) printf "%.2f", c*1e3/(n*s/1e6); else print "-" }'
}
fld() { field "$1" "$F"; } # with F set: a field of the line
med() { # FIG SYS KEY -> the median of FIG over the REPS runs
  local i v vals=()
  for ((i = 1; i <= REPS; i++)); do
    [ -n "${R[$2.$3.r$i]}" ] || continue
    v=$($1 "${R[$2.$3.r$i]}" "${R[$2.$3.r$i.cpu]}")
    [ -n "$v" ] && [ "$v" != - ] && vals+=("$v")
  done
  [ ${#vals[@]} -gt 0 ] || { echo -; return; }
  printf '%s\n' "${vals[@]}" | sort -g | awk '{a[NR] = $1} END {print a[int((NR + 1) / 2)]}'
}
gname() { # KIND -> the key share of its clients
  case $1 in *-p256) echo P-256 ;; *-x25519) echo X25519 ;; *) [ "$GROUP" = p256 ] && echo P-256 || echo X25519 ;; esac
}
ratio() { awk -v a="$1" -v b="$2" 'BEGIN{ if (a+0 > 0 && b+0 > 0) printf "%.2f", a/b; else print "-" }'; }
drop_empty() { # table rows whose figures are all empty or "-" (parts not run); no rows: no table
  awk -F'|' '/^\| (figure|---)/ { head = head $0 "\n"; next }
    /^\| / { for (i = 3; i < NF; i++) { c = $i; gsub(/ /, "", c)
        if (c != "" && c != "-") { printf "%s%s\n", head, $0; head = ""; next } } next }
    { print }'
}
kept=$(sed -n '/^<!-- kept by compare.sh -->$/,$p' "$OUT" 2>/dev/null || true)
goal() { # KEY NEED: moat's connects per CPU-second over HAProxy's, rep by rep and median
  local i m h reps=() med_r
  for ((i = 1; i <= REPS; i++)); do
    [ -n "${R[moat.$1.r$i]}" ] && [ -n "${R[haproxy.$1.r$i]}" ] || continue
    m=$(per_cpu "${R[moat.$1.r$i]}" "${R[moat.$1.r$i.cpu]}"); h=$(per_cpu "${R[haproxy.$1.r$i]}" "${R[haproxy.$1.r$i.cpu]}")
    reps+=("$(ratio "$m" "$h")")
  done
  [ ${#reps[@]} -gt 0 ] || return 0
  med_r=$(ratio "$(med per_cpu moat "$1")" "$(med per_cpu haproxy "$1")")
  echo "- $1: moat/HAProxy connects per CPU-second $med_r× (median), rep by rep ${reps[*]}; goal ≥ $2×: $(awk -v r="$med_r" -v g="$2" 'BEGIN{print (r + 0 >= g) ? "holds" : "does not hold"}') on the median, $(printf '%s\n' "${reps[@]}" | awk -v g="$2" '$1 + 0 >= g {n++} END {printf "%d", n}') of ${#reps[@]} reps"
}
row() { # LABEL FIG KEY: moat, HAProxy, nginx (medians) and the ratios
  local m h n
  m=$(med "$2" moat "$3"); h=$(med "$2" haproxy "$3"); n=$(med "$2" nginx "$3")
  echo "| $1 | $m | $h | $n | | $(ratio "$h" "$m") | $(ratio "$n" "$m") |"
}
d() { F=$2 med fld direct "$1"; }
dt() { F=$2 med fld direct-tls "$1"; } # over TLS to mosquitto, no proxy
p99() { F=p99_ms med fld "$@"; }
added() { # SYS KEY [BASE] -> median p99 µs over BASE's (direct) at the same load
  awk -v a="$(p99 "$1" "$2")" -v b="$(p99 "${3:-direct}" "${2%.w1}")" \
    'BEGIN{ if (a + 0 > 0 && b + 0 > 0) printf "%.0f", (a - b) * 1000; else print "-" }'
}
arow() { # LABEL KEY [BASE]: added p99 for each proxy
  local m h n
  m=$(added moat "$2" "${3:-}"); h=$(added haproxy "$2" "${3:-}"); n=$(added nginx "$2" "${3:-}")
  echo "| $1 | $m | $h | $n | | $(ratio "$h" "$m") | $(ratio "$n" "$m") |"
}
{
  echo "# moat benchmark results"
  echo
  echo "Made by \`WORKERS=$WORKERS N_CONN=$N_CONN CONC=$CONC SECONDS_PS=$SECONDS_PS IDLE_COUNTS='$IDLE_COUNTS' IDLE_PACE=$IDLE_PACE ONE_WORKER=$ONE_WORKER REPS=$REPS PARTS='$PARTS' GROUP=$GROUP GROUP2=$GROUP2 PLACEMENT=$PLACEMENT SHARED_WORKERS=$SHARED_WORKERS bash bench/compare.sh\`"
  echo "on $(date -u +%Y-%m-%d): one run, same machine, same PKI, same broker;"
  echo "for the handshake and forwarding rows every system is up at once on a"
  echo "port of its own and the runs take turns (rep by rep, kind by kind,"
  echo "system by system), each figure the median of its $REPS runs; each idle"
  echo "row is a freshly started proxy. The TCP slab object here is"
  echo "$(awk '$1=="TCP"{print $4}' /proc/slabinfo 2>/dev/null || echo '?') B. Machine: $(nproc) cores,"
  echo "$(awk '/MemTotal/{printf "%.0f GiB", $2/1048576}' /proc/meminfo), $(uname -sr)."
  echo "Versions: $("$MOAT" --version | head -1 | cut -c1-60); $(haproxy -v | head -1 | cut -c1-40);"
  echo "$(nginx -v 2>&1 | head -1); $(mosquitto -h 2>/dev/null | head -1 | cut -c1-40); $(openssl version)."
  echo "Every proxy runs $WORKERS workers (moat's threads, HAProxy's nbthread,"
  echo "nginx's worker_processes) unless a row says one worker each (the two"
  echo "instances of a shared-ticket row $SHARED_WORKERS each: they share this machine's cores,"
  echo "where each would have a machine of its own). TLS 1.3,"
  echo "ECDSA P-256 certificates, client certificates required, CRL loaded;"
  echo "the clients' key share is $(gname x) (OpenSSL's clients, libmosquitto's"
  echo "and paho's, offer X25519 first; wolfSSL's and many embedded stacks'"
  echo "P-256)${GROUP2:+, and the connect rows are made again with $(gname -$GROUP2)}; the load"
  echo "generator (\`build/bench/moat-bench\`) shares the machine, so the"
  echo "figures that compare proxies are their own CPU seconds (from /proc)"
  echo "per connection, per message delivered and per MB delivered; rates"
  echo "are also shown, and how much of the proxy's CPU is the kernel's"
  echo "(system time) and how often its threads are switched in and out per"
  echo "message (/proc/PID/task/*/status), and with perf its system calls"
  echo "per message (\`perf stat -e raw_syscalls:sys_enter -p PIDS\`, the"
  echo "kernel's count over the run). CPU is the kernel's nanoseconds of every"
  echo "thread (/proc/PID/task/*/schedstat). A pubsub run's figures count"
  echo "from the moment its last subscriber has its SUBACK: the connections'"
  echo "setup is the connect rows' figure (the 200-device row also shows CPU"
  echo "with the connects counted in). Flat out, the publishers send more than"
  echo "the broker delivers, and what a proxy forwards from a publisher counts"
  echo "as much work as what it forwards to a subscriber: those rows also show"
  echo "CPU per message carried (sent plus delivered). \"TLS to mosquitto\" is the same"
  echo "load over mutual TLS straight to mosquitto's own listener: what a"
  echo "device would see with no proxy in between."
  echo "Flat out, QoS 0 publishers send more than the broker"
  echo "delivers (see sent= and received= below); the fixed-rate rows give"
  echo "every system the same load. Kernel memory: the proxy's processes"
  echo "are moved into a memory cgroup of their own; what it is billed for"
  echo "(sockets, files, epoll entries the proxy creates) is read before and"
  echo "after the connections open. An accepted socket's struct tcp_sock is"
  echo "built while the kernel answers the SYN and is not billed, so that"
  echo "row is a floor; the machine-wide slab growth per device (client,"
  echo "proxy and broker sockets together) is shown next to it. The ratio"
  echo "columns are the peer's figure divided by moat's, row by row: for"
  echo "handshakes per CPU-second and rates below 1 means moat does more; for"
  echo "CPU and memory above 1 means moat needs less."
  echo
  {
  echo "| figure | moat | HAProxy | nginx | mosquitto TLS | HAProxy/moat | nginx/moat |"
  echo "| --- | ---: | ---: | ---: | ---: | ---: | ---: |"
  hrow() { # LABEL FIG KEY: with mosquitto's TLS listener too
    local m h n q
    m=$(med "$2" moat "$3"); h=$(med "$2" haproxy "$3"); n=$(med "$2" nginx "$3"); q=$(med "$2" mosquitto-tls "$3")
    echo "| $1 | $m | $h | $n | $q | $(ratio "$h" "$m") | $(ratio "$n" "$m") |"
  }
  for k in $KINDS; do
    hrow "${k%%-*} MQTT connects (mTLS handshake, CONNECT, CONNACK, DISCONNECT) per proxy CPU-second, key share $(gname $k)" per_cpu $k
  done
  for k in shared${GROUP2:+ shared-$GROUP2}; do
    [ -n "${R[moat.$k.r1]}${R[haproxy.$k.r1]}" ] || continue
    m=$(med per_cpu moat $k); h=$(med per_cpu haproxy $k)
    echo "| resumed MQTT connects per CPU-second of both instances, reconnects alternating between two sharing a ticket key file, key share $(gname $k) | $m | $h | | | $(ratio "$h" "$m") | |"
    m=$(F=reused med fld moat $k); h=$(F=reused med fld haproxy $k)
    echo "| of which resumed (of $N_CONN), two instances, key share $(gname $k) | $m | $h | | | | |"
  done
  for k in full resumed; do
    F=conn_per_s hrow "$k handshakes/s (client-bound)" fld $k
    F=p99_ms hrow "$k handshake p99 ms" fld $k
  done
  for k in nagle nagle-resumed nagle12 nagle12-resumed; do
    what=$([[ $k = *-resumed ]] && echo resumed || echo full)
    [[ $k = nagle12* ]] && what="TLS 1.2 $what"
    F=conn_per_s hrow "$what MQTT connects/s, 3 clients with Nagle on (as libmosquitto and paho leave it)" fld $k
    F=p50_ms hrow "$what connect to CONNACK p50 ms, 3 clients with Nagle on" fld $k
    hrow "$what MQTT connects per proxy CPU-second, 3 clients with Nagle on" per_cpu $k
  done
  # per forwarding row: CPU per message, (flat out) per message carried,
  # the kernel's part, context switches and system calls per message
  frows() { # LABEL KEY [flat]
    row "proxy CPU µs per message, $1" us_per_msg "$2"
    [ -z "${3:-}" ] || row "proxy CPU µs per message carried (publisher to broker plus broker to subscriber), $1" us_per_carried "$2"
    row "of which the kernel's (system time), $1" sys_per_msg "$2"
    row "proxy context switches per message, $1" csw_per_msg "$2"
    [ -z "$PERF" ] || row "proxy system calls per message, $1" sc_per_msg "$2"
  }
  frows "64 B QoS 0, flat out" q0 flat
  F=msg_per_s row "64 B QoS 0 messages/s delivered, flat out (direct: $(d q0 msg_per_s))" fld q0
  frows "64 B QoS 0 at 2 x 5,000 msg/s" mid
  frows "64 B QoS 0 at 2 x 1,000 msg/s" lat
  frows "64 B QoS 0, 200 devices: 100 pairs x 100 msg/s" fleet
  row "proxy CPU µs per message with the 200 devices' connects counted in, 100 pairs x 100 msg/s" us_per_msg_all fleet
  F=p99_ms row "p99 ms end to end, 100 pairs x 100 msg/s (direct: $(d fleet p99_ms); TLS to mosquitto: $(dt fleet p99_ms))" fld fleet
  arow "added p99 µs over TLS straight to mosquitto, 100 pairs x 100 msg/s" fleet direct-tls
  frows "1 KiB QoS 1, flat out" q1 flat
  frows "16 B QoS 0, flat out" s16 flat
  F=msg_per_s row "1 KiB QoS 1 messages/s, flat out (direct: $(d q1 msg_per_s))" fld q1
  F=msg_per_s row "16 B QoS 0 messages/s delivered, flat out (direct: $(d s16 msg_per_s))" fld s16
  F=mb_per_s row "16 KiB QoS 0 MB/s delivered, flat out (direct: $(d s16k mb_per_s))" fld s16k
  F=mb_per_s row "64 KiB QoS 0 MB/s delivered, flat out (direct: $(d s64k mb_per_s))" fld s64k
  row "proxy CPU ms per MB delivered, 16 KiB QoS 0" ms_per_mb s16k
  row "of which the kernel's (system time, µs per message), 16 KiB QoS 0" sys_per_msg s16k
  [ -z "$PERF" ] || row "proxy system calls per message, 16 KiB QoS 0" sc_per_msg s16k
  row "proxy CPU ms per MB delivered, 64 KiB QoS 0" ms_per_mb s64k
  row "of which the kernel's (system time, µs per message), 64 KiB QoS 0" sys_per_msg s64k
  [ -z "$PERF" ] || row "proxy system calls per message, 64 KiB QoS 0" sc_per_msg s64k
  F=p99_ms row "p99 ms end to end, 2 x 1,000 msg/s of 64 B QoS 0 (direct: $(d lat p99_ms), p50 $(d lat p50_ms); TLS to mosquitto: $(dt lat p99_ms), p50 $(dt lat p50_ms))" fld lat
  F=p50_ms row "p50 ms end to end, 2 x 1,000 msg/s of 64 B QoS 0" fld lat
  arow "added p99 µs over the direct path at 2 x 1,000 msg/s (TLS included)" lat
  arow "added p99 µs over TLS straight to mosquitto at 2 x 1,000 msg/s" lat direct-tls
  F=p99_ms row "p99 ms end to end, 2 x 5,000 msg/s (direct: $(d mid p99_ms), p50 $(d mid p50_ms); TLS to mosquitto: $(dt mid p99_ms), p50 $(dt mid p50_ms))" fld mid
  arow "added p99 µs over the direct path at 2 x 5,000 msg/s" mid
  arow "added p99 µs over TLS straight to mosquitto at 2 x 5,000 msg/s" mid direct-tls
  if [ -n "${R[moat.q0.w1.r1]}" ]; then
    frows "one worker each: 64 B QoS 0, flat out" q0.w1 flat
    F=msg_per_s row "one worker each: 64 B QoS 0 messages/s delivered, flat out" fld q0.w1
    frows "one worker each: 64 B QoS 0 at 2 x 5,000 msg/s" mid.w1
    frows "one worker each: 64 B QoS 0 at 2 x 1,000 msg/s" lat.w1
    arow "one worker each: added p99 µs at 2 x 1,000 msg/s" lat.w1
    arow "one worker each: added p99 µs over TLS straight to mosquitto at 2 x 1,000 msg/s" lat.w1 direct-tls
  fi
  for n in $IDLE_COUNTS; do for pace in "" p; do
    how=$([ -n "$pace" ] && echo "opened $IDLE_PACE at a time" || echo "opened all at once")
    m=${R[moat.idle$pace$n]}; h=${R[haproxy.idle$pace$n]}; g=${R[nginx.idle$pace$n]}; q=${R[mosquitto-tls.idle$pace$n]}
    echo "| RSS KB per idle mTLS MQTT connection ($n held, $how) | $m | $h | $g | $q | $(ratio "$h" "$m") | $(ratio "$g" "$m") |"
    echo "| moat heap KB per idle connection ($n held, $how, \`show info\` heap_bytes) | ${R[moat.heap$pace$n]:--} | | | | | |"
    m=${R[moat.kmem$pace$n]}; h=${R[haproxy.kmem$pace$n]}; g=${R[nginx.kmem$pace$n]}; q=${R[mosquitto-tls.kmem$pace$n]}
    echo "| kernel KB per idle connection billed to the proxy's memory cgroup ($n held, $how) | $m | $h | $g | $q | $(ratio "$h" "$m") | $(ratio "$g" "$m") |"
    m=${R[moat.slab$pace$n]}; h=${R[haproxy.slab$pace$n]}; g=${R[nginx.slab$pace$n]}; q=${R[mosquitto-tls.slab$pace$n]}
    echo "| machine-wide slab KB per idle device, client and broker sockets included ($n held, $how) | $m | $h | $g | $q | | |"
  done; done
  } | drop_empty
  if [ -n "${R[moat.full.r1]}${R[moat.shared.r1]}" ]; then
    echo
    echo "Issue 16's goal, moat at least 4× HAProxy's full and 3× its resumed"
    echo "MQTT connects per CPU-second (each rep: moat's and HAProxy's runs back to back):"
    echo
    goal full 4; goal resumed 3; goal shared 3
    if [ -n "$GROUP2" ]; then goal full-$GROUP2 4; goal resumed-$GROUP2 3; goal shared-$GROUP2 3; fi
  fi
  if [ -n "${R[tokbench.ES256.r1]}${R[moat.tok.full.cert.r1]}" ]; then
    echo
    echo "Tokens (devices without a certificate): access tokens verified per"
    echo "CPU-second by moat's JWT code alone (\`build/bench/token-bench\`, one"
    echo "thread, signature and claims), and MQTT connects per CPU-second of one"
    echo "moat (verify_client: optional, mqtt.token when: no_cert) with the"
    echo "client certificate and without one, the token as the CONNECT password;"
    echo "medians of $REPS, the runs taking turns."
    echo
    echo "| figure | median | of the $REPS runs | / with certificate |"
    echo "| --- | ---: | --- | ---: |"
    tb() { field "$1" per_cpu_s; }
    for a in $TOK_ALGS; do
      v=$(med tb tokbench $a); all=$(for ((i = 1; i <= REPS; i++)); do tb "${R[tokbench.$a.r$i]}"; done | tr '\n' ' ')
      echo "| $a tokens verified per CPU-second (µs each: $(awk -v v="$v" 'BEGIN{ if (v > 0) printf "%.1f", 1e6/v }')) | $v | $all | |"
    done
    for k in full resumed; do
      c=$(med per_cpu moat tok.$k.cert)
      for v in cert ES256 RS256; do
        all=$(for ((i = 1; i <= REPS; i++)); do per_cpu "${R[moat.tok.$k.$v.r$i]}" "${R[moat.tok.$k.$v.r$i.cpu]}"; echo; done | tr '\n' ' ')
        m=$(med per_cpu moat tok.$k.$v)
        what=$([ $v = cert ] && echo "with the client certificate" || echo "no certificate, $v token")
        echo "| $k MQTT connects per moat CPU-second, $what | $m | $all | $(ratio "$m" "$c") |"
      done
    done
    echo
    echo "moat's counters after the token runs: ${R[moat.tok.info]}"
  fi
  echo
  echo "Raw lines (\`key: moat-bench output, proxy cpu_s\`):"
  echo
  echo '```'
  for k in "${!R[@]}"; do
    case $k in *.cpu|*.ready) ;; *) echo "$k: ${R[$k]} cpu_s=${R[$k.cpu]:-}" ;; esac
  done | sort | sed "s|$w|\$TMP|g"
  echo '```'
  echo
  echo "Commands (ADDR is each system's own listener):"
  echo
  echo '```'
  printf '%s\n' "${cmds[@]}" | sed -E "s|$w|\$TMP|g; s|$top/||g; s/127\.0\.0\.1:189(3[2-9]|40)/ADDR/g" | sort -u
  echo '```'
  if [ -n "$kept" ]; then echo; echo "$kept"; fi
} > "$OUT"
echo "wrote $OUT"
