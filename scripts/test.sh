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

if [ -z "${DATABASE_URL:-}" ]; then
  cluster="$(mktemp -d /tmp/exambank-testpg.XXXXXX)"
  port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])' 2>/dev/null || echo 55439)"
  # durability is not under test here: fsync off makes the many per-test databases cheap
  PG_FSYNC=off scripts/pg.sh start "$cluster" "$port"
  export DATABASE_URL="$(scripts/pg.sh url "$port")"
  echo "test.sh: throwaway PostgreSQL on port $port"
fi

cargo test --locked "$@"
