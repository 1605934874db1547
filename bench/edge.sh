#!/usr/bin/env bash
# The mTLS edge against nginx and the bare Node TLS floor, in one run, with the shared harness
# (/work/shared/bench/nginx-mtls-baseline.sh, SERVERS="ext nginx floor"): new mTLS handshakes/s
# (no resumption), new connection + 1 GET, and kept-alive req/s, all through the edge to the same
# trivial origin nginx proxies to, with the server CPU per operation beside each rate. Then the
# time from a DELETE (revocation through the API) to the first refused request on a kept-alive
# connection, which nginx cannot do without a reload.
#
# Topology (production-like): PostgreSQL server; the API in one process (server.ts); the edge in
# another (dist/edge/main.js, what `gatehouse edge` runs), pinned with the origin to SERVER_CPU;
# every load client pinned to CLIENT_CPU. EXT_PIDS = edge + origin, so "ours" is charged for both,
# as nginx is for its worker + the same origin.
#
# Usage: bench/edge.sh            (from the repository root; builds dist/ first)
# Env (defaults): REPEAT=3 TESTS="hs req ka" TLS_HS=1.3 KA_CLIENTS="raw https" SERVERS="ext nginx floor"
#   SERVER_CPU=0 CLIENT_CPU=1 TRIALS=20 (revocation) TICKETS=off (see below) LOG_LEVEL=info
#   BENCH_DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres (a database is created and dropped)
#   SHARED_BENCH=/work/shared/bench EDGE_NODE_ARGS= (e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof")
#   EDGE_BENCH_HOOK="cmd" runs cmd (with EDGE_PORT, EDGE_PID, ORIGIN_PID, CERTS set) instead of the harness
#   PROXY_FLOORS="undici node-parser" FLOOR_TESTS="ka": bench/edge-proxy-floor.mjs (the least a Node
#   process does to proxy mTLS) measured the same way, so the edge's own work shows apart from
#   Node's HTTP stack; PROXY_FLOORS= skips it. SPLIT_SECS=8: a last kept-alive run per proxy
#   that reads the proxy's and the origin's CPU apart (the harness sums EXT_PIDS).
# TICKETS=off runs the edge with OPENSSL_CONF=bench/edge-openssl.cnf (NumTickets = 0): Node's TLS
# 1.3 server otherwise sends two NewSessionTickets per handshake that nobody can use (tickets and
# the session cache are off), which nginx with ssl_session_tickets off does not. TICKETS=on measures
# Node's default. Everything runs on 127.0.0.1 only; every load is bounded; every process started
# here is stopped by its PID; the shared script never stops the edge (we do).
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
SHARED="${SHARED_BENCH:-/work/shared/bench}"
REPEAT="${REPEAT:-3}"
TESTS="${TESTS:-hs req ka}"
TLS_HS="${TLS_HS:-1.3}"
KA_CLIENTS="${KA_CLIENTS:-raw https}"
SERVERS="${SERVERS:-ext nginx floor}"
SERVER_CPU="${SERVER_CPU:-0}"
CLIENT_CPU="${CLIENT_CPU:-1}"
TRIALS="${TRIALS:-20}"
TICKETS="${TICKETS:-off}"
LOG_LEVEL="${LOG_LEVEL:-info}"
PROXY_FLOORS="${PROXY_FLOORS-undici node-parser}"
FLOOR_TESTS="${FLOOR_TESTS:-ka}"
SPLIT_SECS="${SPLIT_SECS:-8}"
PGURL="${BENCH_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/postgres}"
WORK="$(mktemp -d -t gh-bench-edge.XXXXXX)"
cd "$ROOT"

API_PID="" ORIGIN_PID="" EDGE_PID="" FLOOR_PID="" DBNAME="gatehouse_bench_edge_$$"
stop_pid() { if [ -n "${1:-}" ] && kill -0 "$1" 2>/dev/null; then kill "$1"; wait "$1" 2>/dev/null || true; fi; }
db() { node -e '
  const postgres = require("postgres"); const sql = postgres(process.argv[1], { max: 1, onnotice: () => {} });
  sql.unsafe(process.argv[2]).then(() => sql.end(), (e) => { console.error(e.message); process.exit(1); });' "$PGURL" "$1"; }
cleanup() {
  stop_pid "$FLOOR_PID"; stop_pid "$EDGE_PID"; stop_pid "$API_PID"; stop_pid "$ORIGIN_PID"
  db "DROP DATABASE IF EXISTS $DBNAME WITH (FORCE)" 2>/dev/null || true
}
trap cleanup EXIT INT TERM
free_port() { node -e 'const s=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})'; }
wait_log() {  # $1 file, $2 pattern, $3 pid
  for _ in $(seq 1 300); do
    grep -q "$2" "$1" 2>/dev/null && return 0
    kill -0 "$3" 2>/dev/null || break
    sleep 0.1
  done
  echo "did not start: $1" >&2; cat "$1" >&2; exit 1
}

echo "# $(date -u +%FT%TZ) load: $(cut -d' ' -f1-3 /proc/loadavg) nproc=$(nproc) work=$WORK"
npx tsc -p tsconfig.json >/dev/null 2>&1 || echo "note: tsc reported type errors (dist/ is emitted anyway)" >&2
"$SHARED/mtls-certs.sh" "$WORK/certs" >/dev/null
db "CREATE DATABASE $DBNAME"
DBURL="${PGURL%/*}/$DBNAME"
MASTER_KEY="$(openssl rand -base64 32)"
OP_TOKEN="gh_$(openssl rand -base64 32 | tr '+/' '-_' | tr -d '=')"

# The origin nginx also uses (the shared script starts its own copy for the nginx rows).
ORIGIN_PORT=$(free_port)
taskset -c "$SERVER_CPU" node "$SHARED/mtls-node-server.mjs" origin --port "$ORIGIN_PORT" > "$WORK/origin.log" 2>&1 &
ORIGIN_PID=$!
wait_log "$WORK/origin.log" '^READY' "$ORIGIN_PID"

API_PORT=$(free_port)
taskset -c "$CLIENT_CPU" env HOST=127.0.0.1 PORT="$API_PORT" DATABASE_URL="$DBURL" GATEHOUSE_MASTER_KEY="$MASTER_KEY" \
  GATEHOUSE_OPERATOR_TOKEN="$OP_TOKEN" LOG_LEVEL=warn node dist/server.js > "$WORK/api.log" 2>&1 &
API_PID=$!
for _ in $(seq 1 300); do curl -sf -o /dev/null "http://127.0.0.1:$API_PORT/healthz" && break; kill -0 "$API_PID" || { cat "$WORK/api.log" >&2; exit 1; }; sleep 0.1; done
SETUP=$(API="http://127.0.0.1:$API_PORT" OPERATOR_TOKEN="$OP_TOKEN" DATABASE_URL="$DBURL" CERTS="$WORK/certs" \
  ORIGIN="http://127.0.0.1:$ORIGIN_PORT" node bench/edge-setup.mjs)
field() { node -e 'console.log(JSON.parse(process.argv[1])[process.argv[2]])' "$SETUP" "$1"; }

EDGE_PORT=$(free_port)
EDGE_ENV=(DATABASE_URL="$DBURL" GATEHOUSE_MASTER_KEY="$MASTER_KEY" EDGE_HOST=127.0.0.1 EDGE_PORT="$EDGE_PORT"
  EDGE_TLS_CERT="$WORK/certs/server.pem" EDGE_TLS_KEY="$WORK/certs/server.key" LOG_LEVEL="$LOG_LEVEL")
[ "$TICKETS" = off ] && EDGE_ENV+=(OPENSSL_CONF="$ROOT/bench/edge-openssl.cnf")
taskset -c "$SERVER_CPU" env "${EDGE_ENV[@]}" node ${EDGE_NODE_ARGS:-} dist/edge/main.js > "$WORK/edge.log" 2>&1 &
EDGE_PID=$!
for _ in $(seq 1 300); do  # /healthz answers on the edge's IP (no zone owns it)
  curl -sk -o /dev/null -m 1 "https://127.0.0.1:$EDGE_PORT/healthz" && break
  kill -0 "$EDGE_PID" 2>/dev/null || { cat "$WORK/edge.log" >&2; exit 1; }
  sleep 0.1
done
tickets=$( (sleep 0.5; echo Q) | openssl s_client -connect "127.0.0.1:$EDGE_PORT" -servername localhost -cert "$WORK/certs/client.pem" \
  -key "$WORK/certs/client.key" -CAfile "$WORK/certs/ca.pem" -msg 2>/dev/null | grep -c NewSessionTicket || true)
echo "# edge pid $EDGE_PID port $EDGE_PORT, origin pid $ORIGIN_PID; TLS 1.3 NewSessionTickets per handshake: $tickets (TICKETS=$TICKETS); LOG_LEVEL=$LOG_LEVEL"

if [ -n "${EDGE_BENCH_HOOK:-}" ]; then  # development: run your own measurement against the running edge instead
  EDGE_PORT="$EDGE_PORT" EDGE_PID="$EDGE_PID" ORIGIN_PID="$ORIGIN_PID" ORIGIN_PORT="$ORIGIN_PORT" CERTS="$WORK/certs" SERVER_CPU="$SERVER_CPU" \
    CLIENT_CPU="$CLIENT_CPU" bash -c "$EDGE_BENCH_HOOK"
  exit 0
fi
SERVERS="$SERVERS" EXT_PORT="$EDGE_PORT" EXT_PIDS="$EDGE_PID,$ORIGIN_PID" EXT_LABEL=ours EXT_PATHS=/proxy \
  CERTS_DIR="$WORK/certs" PINS=pinned REPEAT="$REPEAT" TESTS="$TESTS" TLS_HS="$TLS_HS" KA_CLIENTS="$KA_CLIENTS" \
  SERVER_CPU="$SERVER_CPU" CLIENT_CPU="$CLIENT_CPU" WORK="$WORK/baseline" "$SHARED/nginx-mtls-baseline.sh"

# cpu_split PID_A PID_B LABEL PORT: one kept-alive run with the raw client, the two processes' CPU apart.
cpu_split() {
  taskset -c "$CLIENT_CPU" node "$SHARED/mtls-load.mjs" --dir "$WORK/certs" --port "$4" --path /proxy --mode keepalive \
    --client raw --concurrency 32 --warmup 2 --duration "$SPLIT_SECS" --watch-pids "$1,$2" --clk-tck "$(getconf CLK_TCK)" |
    LABEL="$3" node -e '
      let s = ""; process.stdin.on("data", (d) => (s += d)).on("end", () => {
        const g = (k) => (s.match(new RegExp(k + "=([^ ]+)")) ?? [])[1];
        const n = Number(g("requests")); const [p, o] = g("watched_cpu_s").split(",").map(Number);
        const us = (x) => (x / n * 1e6).toFixed(1).padStart(5);
        console.log(`${process.env.LABEL.padEnd(24)} ${String(Math.round(g("rps"))).padStart(6)} req/s   proxy ${us(p)} µs + origin ${us(o)} µs = ${us(p + o)} µs CPU per request`);
      });'
}
RESULT_FILES=("$WORK/baseline/results.tsv")
SPLITS=()
for client in $PROXY_FLOORS; do
  echo
  echo "== Node proxy floor ($client): bench/edge-proxy-floor.mjs, same origin, same certificates"
  FLOOR_PORT=$(free_port)
  taskset -c "$SERVER_CPU" node bench/edge-proxy-floor.mjs --port "$FLOOR_PORT" --origin-port "$ORIGIN_PORT" \
    --dir "$WORK/certs" --client "$client" > "$WORK/proxy-floor-$client.log" 2>&1 &
  FLOOR_PID=$!
  wait_log "$WORK/proxy-floor-$client.log" '^READY' "$FLOOR_PID"
  SERVERS=ext EXT_PORT="$FLOOR_PORT" EXT_PIDS="$FLOOR_PID,$ORIGIN_PID" EXT_LABEL="node-proxy-$client" EXT_PATHS=/proxy \
    CERTS_DIR="$WORK/certs" PINS=pinned REPEAT="$REPEAT" TESTS="$FLOOR_TESTS" TLS_HS="$TLS_HS" KA_CLIENTS="$KA_CLIENTS" \
    SERVER_CPU="$SERVER_CPU" CLIENT_CPU="$CLIENT_CPU" WORK="$WORK/floor-$client" "$SHARED/nginx-mtls-baseline.sh" | grep -v '^pinned\|^pin \|^== medians\|^$' || true
  RESULT_FILES+=("$WORK/floor-$client/results.tsv")
  if [ "$SPLIT_SECS" -gt 0 ]; then SPLITS+=("$(cpu_split "$FLOOR_PID" "$ORIGIN_PID" "node-proxy-$client" "$FLOOR_PORT")"); fi
  stop_pid "$FLOOR_PID"; FLOOR_PID=""
done

if [ "$SPLIT_SECS" -gt 0 ] && [[ " $TESTS " == *" ka "* ]]; then
  echo
  echo "== where the CPU of a kept-alive request goes (raw client, 32 connections, ${SPLIT_SECS}s each)"
  cpu_split "$EDGE_PID" "$ORIGIN_PID" "ours (edge)" "$EDGE_PORT"
  for line in "${SPLITS[@]}"; do echo "$line"; done
  awk -F'\t' '$3 == "nginx-proxy" && $4 == "ka" && $6 == "raw" { n++; r += $10; g += $16; o += $17 }
    END { if (n) printf "%-24s %6d req/s   nginx %5.1f µs + origin %5.1f µs = %5.1f µs CPU per request (harness medians: means of %d runs)\n", "nginx-proxy", r / n, g * 1000 / n, o * 1000 / n, (g + o) * 1000 / n, n }' \
    "$WORK/baseline/results.tsv"
fi

echo
echo "== summary: medians over runs, against nginx doing the same job (handshakes: nginx; requests: nginx-proxy)"
node bench/edge-summary.mjs "${RESULT_FILES[@]}"

echo
echo "== revocation: DELETE through the API (another process) → first 403 on an open kept-alive connection"
API="http://127.0.0.1:$API_PORT" TOKEN="$(field token)" ZONE="$(field zoneId)" EDGE_PORT="$EDGE_PORT" CERTS="$WORK/certs" \
  TRIALS="$TRIALS" taskset -c "$CLIENT_CPU" node bench/edge-revocation.mjs
echo "# $(date -u +%FT%TZ) load: $(cut -d' ' -f1-3 /proc/loadavg); results in $WORK/*/results.tsv"
