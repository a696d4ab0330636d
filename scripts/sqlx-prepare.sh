#!/usr/bin/env bash
# Regenerate .sqlx/ (the offline metadata of the compile-time checked queries), or with
# --check verify that the committed .sqlx/ is current. Needs no sqlx-cli: the query macros
# write their metadata to SQLX_OFFLINE_DIR when they run against a live database.
#
#   scripts/sqlx-prepare.sh          rewrite .sqlx/
#   scripts/sqlx-prepare.sh --check  fail when .sqlx/ differs from what the code needs
#
# Uses DATABASE_URL's server when set (a scratch database is created on it), otherwise a
# throwaway cluster.
set -euo pipefail
cd "$(dirname "$0")/.."
mode="${1:-write}"

cluster=""; out=""
cleanup() {
  [ -n "$cluster" ] && { scripts/pg.sh stop "$cluster" || true; rm -rf "$cluster"; }
  [ -n "$out" ] && rm -rf "$out"
  return 0
}
trap cleanup EXIT INT TERM

if [ -z "${DATABASE_URL:-}" ]; then
  cluster="$(mktemp -d /tmp/exambank-sqlxpg.XXXXXX)"
  port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
  PG_FSYNC=off scripts/pg.sh start "$cluster" "$port"
  server_url="$(scripts/pg.sh url "$port")"
else
  server_url="$DATABASE_URL"
fi
db="exambank_sqlx_$$"
psql -q "$server_url" -c "DROP DATABASE IF EXISTS $db" -c "CREATE DATABASE $db" >/dev/null
url="${server_url%/*}/$db"
for f in migrations/*.sql; do psql -q -v ON_ERROR_STOP=1 "$url" -f "$f" >/dev/null; done

out="$(mktemp -d /tmp/exambank-sqlx.XXXXXX)"
cargo clean --quiet -p exambank
SQLX_OFFLINE=false SQLX_OFFLINE_DIR="$out" DATABASE_URL="$url" cargo check --quiet --all-targets
psql -q "$server_url" -c "DROP DATABASE $db" >/dev/null

if [ "$mode" = "--check" ]; then
  if diff -r -q "$out" .sqlx >/dev/null 2>&1; then
    echo "sqlx-prepare: .sqlx/ is current ($(ls .sqlx | wc -l) queries)"
  else
    diff -r -q "$out" .sqlx || true
    echo "sqlx-prepare: .sqlx/ is out of date; run scripts/sqlx-prepare.sh and commit .sqlx/" >&2
    exit 1
  fi
else
  rm -rf .sqlx && mkdir .sqlx && cp "$out"/*.json .sqlx/
  echo "sqlx-prepare: wrote $(ls .sqlx | wc -l) queries to .sqlx/"
fi
