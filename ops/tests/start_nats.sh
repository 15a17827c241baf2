#!/usr/bin/env bash
# ops/lib/services.sh's start_nats must judge readiness by the process it started, not by
# re-reading a pid file that nats-server rewrites while it starts (a read in that moment
# sees an empty file; the helper then killed the server it had just started).
#
# 1. A stand-in that behaves as nats-server does at start-up, only slower: it empties its
#    -P pid file, waits, then runs the real server. start_nats must still succeed.
# 2. The real nats-server, started and stopped five times in a row.
# Prints "N passed, N failed" and exits non-zero on any failure.
set -uo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=../lib/common.sh
source "$here/../lib/common.sh"
# shellcheck source=../lib/services.sh
source "$here/../lib/services.sh"

real=$(nats_bin)
[ -n "$real" ] || die "nats-server not found"
work=$(mktemp -d)
trap 'stop_nats slow >/dev/null 2>&1; stop_nats real >/dev/null 2>&1; rm -rf "$work"' EXIT
DATA_DIR="$work/data"
passed=0 failed=0

check() { # check NAME COMMAND...
  local name=$1; shift
  if ( "$@" ) >"$work/out" 2>&1; then
    passed=$((passed + 1)); echo "ok   $name"
  else
    failed=$((failed + 1)); echo "FAIL $name"; sed 's/^/     /' "$work/out"
  fi
}

mkdir -p "$work/bin"
cat >"$work/bin/nats-server" <<STANDIN
#!/usr/bin/env bash
# Empties the pid file given with -P, as a starting nats-server rewrites it, but slowly.
pidfile=""; prev=""
for a in "\$@"; do [ "\$prev" = "-P" ] && pidfile=\$a; prev=\$a; done
sleep 0.3
[ -n "\$pidfile" ] && : >"\$pidfile"
sleep 0.7
exec "$real" "\$@"
STANDIN
chmod +x "$work/bin/nats-server"

slow_start() {
  local port
  port=$(free_port)
  NATS_SERVER_BIN="$work/bin/nats-server" start_nats slow "$port"
  port_open 127.0.0.1 "$port"
  stop_nats slow
  ! port_open 127.0.0.1 "$port"
}
check "a server that rewrites its pid file while starting is waited for, not killed" slow_start

real_cycles() {
  local port i
  for i in 1 2 3 4 5; do
    port=$(free_port)
    NATS_SERVER_BIN="$real" start_nats real "$port" || return 1
    port_open 127.0.0.1 "$port" || return 1
    stop_nats real || return 1
    ! port_open 127.0.0.1 "$port" || return 1
  done
}
check "the real nats-server starts and stops five times in a row" real_cycles

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
