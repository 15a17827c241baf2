# shellcheck shell=bash
# Helpers of ops/bench: the peers' npm packages, and the product's and peers' processes,
# each started in the background with its pid and log under $BENCH_DIR, and stopped by
# that pid only. Sourced after common.sh and services.sh.

BENCH_DIR="$DATA_DIR/bench"
BENCH_PIDS="$BENCH_DIR/pids"

# Node and npm (Debian's, if missing) and bench/peers/node_modules (socket.io, bun) from
# bench/peers/package-lock.json, reinstalled when the lock file changes.
ensure_bench_peers() {
  local peers="$ROOT/bench/peers" missing=()
  command -v node >/dev/null || missing+=(nodejs)
  command -v npm >/dev/null || missing+=(npm)
  if ((${#missing[@]})); then apt_install "${missing[@]}"; fi
  npm_ci_if_changed "$peers"
  [ -x "$peers/node_modules/.bin/bun" ] || die "bun was not installed in $peers/node_modules"
}

# bench_start NAME PORT CMD...: start CMD in the background (its own session, log in
# $BENCH_DIR/NAME.log) and wait until it accepts connections on PORT.
bench_start() {
  local name=$1 port=$2 i
  shift 2
  mkdir -p "$BENCH_PIDS"
  port_open 127.0.0.1 "$port" && die "$name: port $port is already in use"
  setsid nohup "$@" </dev/null >"$BENCH_DIR/$name.log" 2>&1 &
  echo $! >"$BENCH_PIDS/$name.pid"
  for ((i = 0; i < 600; i++)); do
    port_open 127.0.0.1 "$port" && return 0
    kill -0 "$(cat "$BENCH_PIDS/$name.pid")" 2>/dev/null || break
    sleep 0.1
  done
  show_log "$BENCH_DIR/$name.log"
  die "$name did not listen on port $port"
}

# bench_pid NAME: the pid of a process bench_start started, if it is alive.
bench_pid() {
  local f="$BENCH_PIDS/$1.pid" pid
  [ -s "$f" ] || return 1
  pid=$(cat "$f")
  kill -0 "$pid" 2>/dev/null && echo "$pid"
}

# bench_stop NAME...: SIGTERM, then SIGKILL after 10 s.
bench_stop() {
  local name pid i
  for name in "$@"; do
    if pid=$(bench_pid "$name"); then
      kill -TERM "$pid" 2>/dev/null || true
      for ((i = 0; i < 100; i++)); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
      done
      kill -KILL "$pid" 2>/dev/null || true
    fi
    rm -f "$BENCH_PIDS/$name.pid"
  done
}

# bench_stop_all: every process this bench started.
bench_stop_all() {
  local f
  for f in "$BENCH_PIDS"/*.pid; do
    [ -e "$f" ] || continue
    bench_stop "$(basename "$f" .pid)"
  done
}

# bench_cleanup: stop every process started here, then the private NATS and Postgres.
bench_cleanup() {
  bench_stop_all
  stop_nats bench-nats || true
  stop_postgres bench-pg || true
}

# Every port below is shifted by BENCH_PORT_OFFSET (default 0), so that two checkouts can
# benchmark side by side.
BP=${BENCH_PORT_OFFSET:-0}
BENCH_NATS_PORT=$((16222 + BP)) BENCH_PG_PORT=$((16432 + BP)) BENCH_API_PORT=$((18081 + BP))

# bench_services_up: a private NATS (16222) and Postgres (16432) with fresh data, a new JWT
# secret, and the environment the product's processes and chat-load read.
bench_services_up() {
  stop_nats bench-nats || true
  rm -rf "$DATA_DIR/bench-nats/nats"
  start_nats bench-nats "$BENCH_NATS_PORT"
  start_postgres bench-pg "$BENCH_PG_PORT"
  "$(pg_bin_dir)/dropdb" -h 127.0.0.1 -p "$BENCH_PG_PORT" -U postgres --if-exists bench
  "$(pg_bin_dir)/createdb" -h 127.0.0.1 -p "$BENCH_PG_PORT" -U postgres bench
  mkdir -p "$BENCH_DIR"
  (umask 077 && od -An -tx1 -N32 /dev/urandom | tr -d ' \n' >"$BENCH_DIR/jwt_secret")
  export NATS_URL=nats://127.0.0.1:$BENCH_NATS_PORT
  export DATABASE_URL=postgres://postgres@127.0.0.1:$BENCH_PG_PORT/bench
  export JWT_SECRET_FILE="$BENCH_DIR/jwt_secret"
  export RUST_LOG=${RUST_LOG:-warn}
  # The abuse limits are per user and per connection; load-generator users stay far below
  # them, but room creation comes from one user, and nothing here is abuse.
  export GATEWAY_RATE_PER_SEC=1000 GATEWAY_RATE_BURST=2000
  export API_RATE_PER_SEC=1000000 API_RATE_BURST=1000000 API_ADDED_PER_SEC=1000000 API_ADDED_BURST=1000000
}

# stack_up BIN GATEWAYS: the projector (18083), the api (18081) and that many gateways
# (18082, 18092, ...; their /metrics on 18087, 18097, ..., the api's on 18091) from the
# binaries in BIN; sets GATEWAY_URLS and GATEWAY_PIDS. BENCH_GATEWAY_WRAPPER, when set, is
# a command line the gateways run under (a heap profiler, say: see docs/BENCHMARKS.md).
GATEWAY_URLS="" GATEWAY_PIDS=""
stack_up() {
  local bin=$1 n=$2 i port
  bench_start projector $((18083 + BP)) env PROJECTOR_HTTP_ADDR=127.0.0.1:$((18083 + BP)) "$bin/projector"
  bench_start api "$BENCH_API_PORT" env API_HTTP_ADDR=127.0.0.1:"$BENCH_API_PORT" \
    API_METRICS_ADDR=127.0.0.1:$((18091 + BP)) "$bin/api"
  GATEWAY_URLS="" GATEWAY_PIDS=""
  for ((i = 0; i < n; i++)); do
    port=$((18082 + BP + 10 * i))
    # shellcheck disable=SC2086  # the wrapper is a command line: split into words
    bench_start "gateway$i" "$port" env GATEWAY_HTTP_ADDR="127.0.0.1:$port" \
      GATEWAY_METRICS_ADDR="127.0.0.1:$((port + 5))" GATEWAY_ID="bench-gw$i" \
      ${BENCH_GATEWAY_WRAPPER:-} "$bin/gateway"
    GATEWAY_URLS+="${GATEWAY_URLS:+,}http://127.0.0.1:$port"
    GATEWAY_PIDS+="${GATEWAY_PIDS:+,}$(bench_pid "gateway$i")"
  done
}
stack_down() {
  local f
  for f in "$BENCH_PIDS"/gateway*.pid; do
    if [ -e "$f" ]; then bench_stop "$(basename "$f" .pid)"; fi
  done
  bench_stop api projector
}

# peers_up KIND N: N processes of a peer (socketio: ports 19101..., bun: 19201...); sets
# PEER_URLS and PEER_PIDS.
PEER_URLS="" PEER_PIDS=""
peers_up() {
  local kind=$1 n=$2 i port base peers="$ROOT/bench/peers"
  PEER_URLS="" PEER_PIDS=""
  if [ "$kind" = socketio ]; then base=19101; else base=19201; fi
  for ((i = 0; i < n; i++)); do
    port=$((base + BP + i))
    if [ "$kind" = socketio ]; then
      bench_start "$kind$i" "$port" node "$peers/socketio/server.js" "$port"
    else
      bench_start "$kind$i" "$port" "$peers/node_modules/.bin/bun" "$peers/bun/server.js" "$port"
    fi
    PEER_URLS+="${PEER_URLS:+,}http://127.0.0.1:$port"
    PEER_PIDS+="${PEER_PIDS:+,}$(bench_pid "$kind$i")"
  done
}
peers_down() {
  local f
  for f in "$BENCH_PIDS"/socketio*.pid "$BENCH_PIDS"/bun*.pid; do
    if [ -e "$f" ]; then bench_stop "$(basename "$f" .pid)"; fi
  done
}
