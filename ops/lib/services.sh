# shellcheck shell=bash
# Private NATS / Postgres instances under $DATA_DIR/NAME, plus pid-file process helpers.
# Sourced, not executed. Only ever stops processes recorded in our own pid files / data dirs.

if [ -z "${OPS_COMMON_LOADED:-}" ]; then
  # shellcheck source-path=SCRIPTDIR source=common.sh
  source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
fi

# port_open HOST PORT: true if a TCP connect succeeds within 1 s.
port_open() {
  # shellcheck disable=SC2016  # expanded by the inner bash
  timeout 1 bash -c 'exec 3<>"/dev/tcp/$1/$2"' _ "$1" "$2" 2>/dev/null
}

# free_port: a loopback port nothing listens on now (the OS picks it).
free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# url_reachable URL DEFAULT_PORT: TCP check of the first host:port in a URL (scheme://[user@]host[:port]...).
url_reachable() {
  local hp=${1#*://} host port
  hp=${hp%%/*}; hp=${hp%%,*}; hp=${hp%%\?*}; hp=${hp##*@}
  host=${hp%:*}; port=${hp##*:}
  if [ "$host" = "$hp" ]; then port=$2; fi
  host=${host#[}; host=${host%]}
  port_open "${host:-127.0.0.1}" "$port"
}

# pg_url_reachable URL: Postgres accepts connections at URL.
pg_url_reachable() {
  "$(pg_bin_dir)/pg_isready" -q -t 3 -d "$1" >/dev/null 2>&1
}

# pid_of FILE PATTERN: print the pid in FILE if that process is alive and its command line contains PATTERN.
pid_of() {
  local pid
  [ -s "$1" ] || return 1
  pid=$(head -1 "$1" | tr -dc '0-9')
  [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null || return 1
  tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -qF -- "$2" || return 1
  echo "$pid"
}

# stop_pidfile FILE PATTERN WHAT [TIMEOUT_S]: SIGTERM, wait, then SIGKILL; removes FILE.
stop_pidfile() {
  local file=$1 pat=$2 what=$3 secs=${4:-10} pid i
  if ! pid=$(pid_of "$file" "$pat"); then
    log "$what: not running"
    rm -f "$file"
    return 0
  fi
  log "$what: stopping (pid $pid)"
  kill -TERM "$pid" 2>/dev/null || true
  for ((i = 0; i < secs * 10; i++)); do
    pid_of "$file" "$pat" >/dev/null || break
    sleep 0.1
  done
  if pid_of "$file" "$pat" >/dev/null; then
    warn "$what: still alive after ${secs}s, sending SIGKILL"
    kill -KILL "$pid" 2>/dev/null || true
    sleep 0.5
  fi
  rm -f "$file"
}

# show_log FILE: last lines of a log, for failure messages.
show_log() {
  printf -- '--- last lines of %s ---\n' "$1" >&2
  tail -n 30 "$1" >&2 2>/dev/null || true
}

# nats_server_args PORT STORE: nats-server's arguments, one a line, from NATS_SERVER_ARGS in
# testkit/services.env (the file the Rust test kit and the browser tests read too), with
# {port} and {store} filled in.
nats_server_args() {
  local line words word
  line=$(sed -n 's/^NATS_SERVER_ARGS=//p' "$ROOT/testkit/services.env")
  [ -n "$line" ] || die "NATS_SERVER_ARGS missing from $ROOT/testkit/services.env"
  read -ra words <<<"$line"
  for word in "${words[@]}"; do
    case $word in
      '{port}') printf '%s\n' "$1" ;;
      '{store}') printf '%s\n' "$2" ;;
      *) printf '%s\n' "$word" ;;
    esac
  done
}

# start_nats NAME PORT: nats-server with JetStream on 127.0.0.1:PORT, state in $DATA_DIR/NAME.
# Readiness is judged by the process this function started, never by re-reading a pid file:
# nats-server rewrites its own pid file (-P) while it starts, and a read that lands in that
# moment sees an empty file. The server writes its pid to nats-server.pid; once it accepts
# connections that pid is copied to nats.pid, the file the stop helpers use.
start_nats() {
  local name=$1 port=$2 dir="$DATA_DIR/$1" pid i bin launched args
  local pidf="$dir/nats.pid" logf="$dir/nats.log" own_pidf="$dir/nats-server.pid"
  if pid=$(pid_of "$pidf" nats-server); then
    log "nats ($name): already running (pid $pid) on port $port"
    return 0
  fi
  port_open 127.0.0.1 "$port" && die "nats ($name): port $port already in use by another process"
  bin=$(nats_bin)
  [ -n "$bin" ] || die "nats-server not found"
  mkdir -p "$dir/nats"
  mapfile -t args < <(nats_server_args "$port" "$dir/nats")
  rm -f "$own_pidf"
  log "nats ($name): starting on 127.0.0.1:$port"
  # shellcheck disable=SC2094  # nats appends to the same log it is given with -l
  setsid nohup "$bin" "${args[@]}" -l "$logf" -P "$own_pidf" \
    </dev/null >>"$logf" 2>&1 &
  launched=$!
  echo "$launched" >"$pidf"
  for ((i = 0; i < 150; i++)); do
    if port_open 127.0.0.1 "$port"; then
      # setsid execs in place here (a background job is no group leader), so the pid is
      # normally the one launched; the server's own file covers a setsid that forked.
      pid=$(pid_of "$own_pidf" nats-server) || pid=$launched
      echo "$pid" >"$pidf"
      return 0
    fi
    # Gone only when neither the launched process nor the pid the server wrote is alive.
    if ! kill -0 "$launched" 2>/dev/null && ! pid_of "$own_pidf" nats-server >/dev/null; then
      break
    fi
    sleep 0.1
  done
  show_log "$logf"
  stop_pidfile "$pidf" nats-server "nats ($name)" 5
  die "nats ($name): did not accept connections on port $port"
}

stop_nats() {
  stop_pidfile "$DATA_DIR/$1/nats.pid" nats-server "nats ($1)"
}

# Run a command as the postgres user (from / so its cwd is always accessible).
as_postgres() {
  (cd / && runuser -u postgres -- "$@")
}

# pg_running NAME: our cluster in $DATA_DIR/NAME/pg is up (postmaster pid alive and started on that data dir).
pg_running() {
  local pgdata="$DATA_DIR/$1/pg"
  pid_of "$pgdata/postmaster.pid" "$pgdata" >/dev/null
}

# start_postgres NAME PORT [DB]: private cluster on 127.0.0.1:PORT (trust auth, user postgres); creates DB if given.
start_postgres() {
  local name=$1 port=$2 db=${3:-} dir="$DATA_DIR/$1" bin
  local pgdata="$dir/pg" sock="$dir/pgsock" logf="$dir/pg.log" locale=(--no-locale)
  bin=$(pg_bin_dir)
  [ -n "$bin" ] || die "postgres binaries not found in /usr/lib/postgresql/*/bin"
  install -d -m 755 "$DATA_DIR" "$dir"
  as_postgres test -x "$dir" ||
    die "user postgres cannot reach $dir; make its parent directories traversable (chmod o+x)"
  if [ ! -s "$pgdata/PG_VERSION" ]; then
    install -d -o postgres -g postgres -m 700 "$pgdata"
    if locale -a 2>/dev/null | grep -qiE '^c\.utf-?8$'; then locale=(--locale=C.UTF-8); fi
    log "postgres ($name): initdb in $pgdata"
    as_postgres "$bin/initdb" -D "$pgdata" -A trust -U postgres --encoding=UTF8 "${locale[@]}" \
      >"$dir/initdb.log" 2>&1 || { show_log "$dir/initdb.log"; die "postgres ($name): initdb failed"; }
  fi
  if pg_running "$name"; then
    log "postgres ($name): already running on port $port"
  else
    port_open 127.0.0.1 "$port" && die "postgres ($name): port $port already in use by another process"
    install -d -o postgres -g postgres -m 755 "$sock"
    # Unix socket paths are limited to ~107 bytes; fall back to TCP only if ours would be too long.
    [ "${#sock}" -lt 90 ] || sock=""
    touch "$logf" && chown postgres:postgres "$logf"
    log "postgres ($name): starting on 127.0.0.1:$port"
    as_postgres "$bin/pg_ctl" -D "$pgdata" -l "$logf" -w -t 60 \
      -o "-p $port -c listen_addresses=127.0.0.1 -k '$sock' -c max_connections=300" start >/dev/null ||
      { show_log "$logf"; die "postgres ($name): failed to start"; }
  fi
  if [ -n "$db" ]; then
    [[ $db =~ ^[A-Za-z0-9_]+$ ]] || die "bad database name: $db"
    if [ "$("$bin/psql" -X -h 127.0.0.1 -p "$port" -U postgres -d postgres -tAc \
      "select 1 from pg_database where datname='$db'")" != 1 ]; then
      log "postgres ($name): creating database $db"
      "$bin/createdb" -h 127.0.0.1 -p "$port" -U postgres "$db"
    fi
  fi
}

stop_postgres() {
  local pgdata="$DATA_DIR/$1/pg"
  if ! pg_running "$1"; then
    log "postgres ($1): not running"
    return 0
  fi
  log "postgres ($1): stopping"
  as_postgres "$(pg_bin_dir)/pg_ctl" -D "$pgdata" -m fast -w -t 60 stop >/dev/null
}
