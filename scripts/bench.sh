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
# BENCH_BASELINE_REV=<git rev>: build the server of that revision (in its own worktree and
# target directory, kept for the next run) and hand it to the bench as the "before" binary
if [ -n "${BENCH_BASELINE_REV:-}" ]; then
  rev="$(git rev-parse --short "$BENCH_BASELINE_REV")"
  src="target/baseline-src-$rev"
  [ -d "$src" ] || git worktree add --detach -f "$src" "$rev" >/dev/null
  root="$PWD"
  (cd "$src" && CARGO_TARGET_DIR="$root/target/baseline-$rev" SQLX_OFFLINE=true cargo build --locked --release --bin exambank)
  export BENCH_BASELINE_BIN="$PWD/target/baseline-$rev/release/exambank"
  export BENCH_BASELINE_SEED="$PWD/$src/seed"
fi
cargo bench --locked --bench "$name" -- "$@"
