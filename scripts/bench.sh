#!/usr/bin/env bash
# Run a bench program in release mode against a throwaway PostgreSQL cluster (unless
# DATABASE_URL is set):  scripts/bench.sh auth
set -euo pipefail
cd "$(dirname "$0")/.."
name="${1:?usage: scripts/bench.sh BENCH}"; shift
export SQLX_OFFLINE=true
cluster=""
cleanup() { [ -n "$cluster" ] && { scripts/pg.sh stop "$cluster" || true; rm -rf "$cluster"; }; return 0; }
trap cleanup EXIT INT TERM
if [ -z "${DATABASE_URL:-}" ]; then
  cluster="$(mktemp -d /tmp/exambank-benchpg.XXXXXX)"
  port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
  scripts/pg.sh start "$cluster" "$port"
  # the server, the bench and pgbench reach PostgreSQL through its Unix socket, as a server on
  # the same machine would (TCP loopback costs both sides kernel time)
  export DATABASE_URL="postgres://postgres@localhost:${port}/postgres?host=${cluster}"
  export PGBENCH_PORT="$port"
fi
cargo bench --locked --bench "$name" -- "$@"
