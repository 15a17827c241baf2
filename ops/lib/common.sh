# shellcheck shell=bash
# Shared helpers for the ops scripts: repo root, logging, package and toolchain checks.
# Sourced, not executed. Sets ROOT (repo root) and DATA_DIR (ROOT/.data, git-ignored).

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd -P)"
# shellcheck disable=SC2034
DATA_DIR="$ROOT/.data"
# shellcheck disable=SC2034
OPS_COMMON_LOADED=1
_APT_UPDATED=0

if [ -t 2 ]; then _C_B=$'\033[1;34m' _C_Y=$'\033[1;33m' _C_R=$'\033[1;31m' _C_G=$'\033[1;32m' _C_0=$'\033[0m'
else _C_B='' _C_Y='' _C_R='' _C_G='' _C_0=''; fi
log() { printf '%s==>%s %s\n' "$_C_B" "$_C_0" "$*" >&2; }
warn() { printf '%swarning:%s %s\n' "$_C_Y" "$_C_0" "$*" >&2; }
die() { printf '%serror:%s %s\n' "$_C_R" "$_C_0" "$*" >&2; exit 1; }
banner() { printf '\n%s===== %s =====%s\n' "$_C_G" "$*" "$_C_0" >&2; }

# Newest Postgres bin dir (e.g. /usr/lib/postgresql/15/bin), or "" if none.
pg_bin_dir() {
  local d
  d=$(printf '%s\n' /usr/lib/postgresql/*/bin | sort -V | tail -1)
  if [ -d "$d" ]; then echo "$d"; fi
}

# Path of nats-server, or "" if none.
nats_bin() {
  if [ -n "${NATS_SERVER_BIN:-}" ] && [ -x "$NATS_SERVER_BIN" ]; then echo "$NATS_SERVER_BIN"; return 0; fi
  if command -v nats-server 2>/dev/null; then return 0; fi
  if [ -x /usr/sbin/nats-server ]; then echo /usr/sbin/nats-server; fi
}

# apt-get install, running apt-get update at most once per script run.
apt_install() {
  [ "$(id -u)" = 0 ] || die "need root to install packages: $*"
  if [ "$_APT_UPDATED" = 0 ]; then
    log "apt-get update"
    apt-get update -qq
    _APT_UPDATED=1
  fi
  log "installing: $*"
  DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "$@"
}

# Install nats-server, postgresql, postgresql-client, curl and jq (the README's walk-through,
# which a test runs) if their binaries are missing.
ensure_packages() {
  local missing=() bin
  bin=$(pg_bin_dir)
  [ -n "$(nats_bin)" ] || missing+=(nats-server)
  if [ -z "$bin" ] || [ ! -x "$bin/initdb" ] || [ ! -x "$bin/pg_ctl" ]; then missing+=(postgresql); fi
  if [ -z "$bin" ] || [ ! -x "$bin/psql" ]; then missing+=(postgresql-client); fi
  command -v curl >/dev/null || missing+=(curl)
  command -v jq >/dev/null || missing+=(jq)
  if ((${#missing[@]})); then apt_install "${missing[@]}"; fi
  id postgres >/dev/null 2>&1 || die "user 'postgres' missing (package postgresql should create it)"
}

# Fail clearly unless cargo (and the given cargo subcommands, e.g. fmt clippy) work.
# shellcheck disable=SC2120  # callers pass subcommands (ops/test) or none
ensure_rust() {
  local sub
  if ! command -v cargo >/dev/null && [ -x "${HOME:-/root}/.cargo/bin/cargo" ]; then
    PATH="${HOME:-/root}/.cargo/bin:$PATH"
  fi
  command -v cargo >/dev/null ||
    die "cargo not found: install Rust (https://rustup.rs) and put ~/.cargo/bin on PATH"
  for sub in "$@"; do
    cargo "$sub" --version >/dev/null 2>&1 ||
      die "'cargo $sub' not available (try: rustup component add ${sub/fmt/rustfmt})"
  done
}

# Tools for the browser tests in web/tests and the JavaScript SDK's tests in clients/js:
# Debian's chromium (only if /usr/bin/chromium is missing), nodejs and npm (each only if
# missing; the tests need Node 20 or later), and web/node_modules and clients/js/node_modules
# from their package-lock.json (npm ci when node_modules is missing or the lock file changed
# since the last npm ci).
ensure_browser_tools() {
  local web="$ROOT/web" missing=()
  [ -x /usr/bin/chromium ] || missing+=(chromium)
  command -v node >/dev/null || missing+=(nodejs)
  command -v npm >/dev/null || missing+=(npm)
  if ((${#missing[@]})); then apt_install "${missing[@]}"; fi
  npm_ci_if_changed "$web"
  npm_ci_if_changed "$ROOT/clients/js"
}

# npm_ci_if_changed DIR: npm ci in DIR when DIR/node_modules is missing or DIR/package-lock.json
# changed since the last npm ci there.
npm_ci_if_changed() {
  local dir=$1 stamp="$1/node_modules/.package-lock.sha256" want
  want=$(sha256sum "$dir/package-lock.json" | cut -d' ' -f1)
  if [ ! -d "$dir/node_modules" ] || [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
    log "npm ci in $dir"
    (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error) || die "npm ci failed in $dir"
    echo "$want" >"$stamp"
  fi
}

# Debian's docker-compose, for the test that validates compose/docker-compose.yml (no Docker
# engine is needed for `docker-compose config`).
ensure_compose_tool() {
  command -v docker-compose >/dev/null || apt_install docker-compose
}

# cargo-fuzz for the targets in fuzz/ (ops/fuzz): installed once with cargo install --locked,
# plus a C++ compiler, which libfuzzer-sys needs to build libFuzzer.
CARGO_FUZZ_VERSION=0.13.2
ensure_cargo_fuzz() {
  # shellcheck disable=SC2119  # no cargo subcommands to check here
  ensure_rust
  command -v c++ >/dev/null || apt_install g++
  if cargo fuzz --version >/dev/null 2>&1; then return 0; fi
  log "installing cargo-fuzz $CARGO_FUZZ_VERSION (cargo install --locked)"
  cargo install cargo-fuzz --version "$CARGO_FUZZ_VERSION" --locked ||
    die "cargo install cargo-fuzz failed"
}

# schemathesis (ops/schemathesis), pinned, in a virtualenv at ROOT/.venv-tools (git-ignored);
# installs python3 and its venv module from Debian if missing. Prints the executable's path.
SCHEMATHESIS_VERSION=4.32.5
ensure_schemathesis() {
  local venv="$ROOT/.venv-tools" st="$ROOT/.venv-tools/bin/schemathesis"
  if [ -x "$st" ] && [ "$("$st" --version 2>/dev/null)" = "schemathesis, version $SCHEMATHESIS_VERSION" ]; then
    echo "$st"
    return 0
  fi
  command -v python3 >/dev/null || apt_install python3
  python3 -c 'import venv, ensurepip' 2>/dev/null || apt_install python3-venv
  log "installing schemathesis $SCHEMATHESIS_VERSION into $venv"
  [ -x "$venv/bin/pip" ] || python3 -m venv "$venv" >&2 || die "python3 -m venv $venv failed"
  "$venv/bin/pip" install --quiet --disable-pip-version-check "schemathesis==$SCHEMATHESIS_VERSION" >&2 ||
    die "pip install schemathesis==$SCHEMATHESIS_VERSION failed"
  echo "$st"
}
