#!/usr/bin/env bash
# The whole test suite, one command: scripts/test.sh [extra cargo test args]
#
# With DATABASE_URL unset it starts a throwaway PostgreSQL cluster from the system's binaries
# (as the `postgres` user when run as root), points the tests at it, and stops and removes it
# afterwards, even when tests fail. Each integration test then gets a fresh database of its
# own (#[sqlx::test]).
set -euo pipefail
cd "$(dirname "$0")/.."

export SQLX_OFFLINE=true   # queries are checked against .sqlx/, not the test database
cluster=""
cleanup() {
  if [ -n "$cluster" ]; then
    scripts/pg.sh stop "$cluster" || true
    rm -rf "$cluster"
  fi
}
trap cleanup EXIT INT TERM

# What the browser tests need: Debian's chromium and chromium-driver (tests/api/browser.rs,
# tests/api/a11y.rs) and axe-core from npm, pinned in tests/a11y/package-lock.json.
missing=()
[ -x "${CHROMIUM:-/usr/bin/chromium}" ] || missing+=(chromium)
[ -x "${CHROMEDRIVER:-/usr/bin/chromedriver}" ] || missing+=(chromium-driver)
command -v node >/dev/null || missing+=(nodejs)
command -v npm >/dev/null || missing+=(npm)
if [ "${#missing[@]}" -gt 0 ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "test.sh: installing ${missing[*]} (apt-get)"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
  else
    echo "test.sh: the browser tests need these Debian packages: ${missing[*]}" >&2
    echo "test.sh: install them with: sudo apt-get install -y ${missing[*]}" >&2
    exit 1
  fi
fi
if [ ! -f tests/a11y/node_modules/axe-core/axe.min.js ]; then
  echo "test.sh: installing axe-core (npm ci in tests/a11y)"
  (cd tests/a11y && npm ci --no-audit --no-fund --loglevel=error)
fi

if [ -z "${DATABASE_URL:-}" ]; then
  cluster="$(mktemp -d /tmp/exambank-testpg.XXXXXX)"
  port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])' 2>/dev/null || echo 55439)"
  # durability is not under test here: fsync off makes the many per-test databases cheap
  PG_FSYNC=off scripts/pg.sh start "$cluster" "$port"
  export DATABASE_URL="$(scripts/pg.sh url "$port")"
  echo "test.sh: throwaway PostgreSQL on port $port"
fi

cargo test --locked "$@"
