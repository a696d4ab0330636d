#!/usr/bin/env bash
# Run exambank locally without Docker: a PostgreSQL cluster under ./.data/ (created on first
# run, reused after), migrations, the seeded bank, and the server on http://127.0.0.1:8080.
#
#   scripts/run.sh                 build (release) and run
#   EXAMBANK_PG_PORT=5544 scripts/run.sh
#   EXAMBANK_PROFILE=dev scripts/run.sh   faster first build, slower server
set -euo pipefail
cd "$(dirname "$0")/.."

pg_port="${EXAMBANK_PG_PORT:-5433}"
profile="${EXAMBANK_PROFILE:-release}"
mkdir -p .data
scripts/pg.sh start .data/pg "$pg_port"
trap 'scripts/pg.sh stop .data/pg' EXIT INT TERM

server_url="$(scripts/pg.sh url "$pg_port")"
psql -q "$server_url" -tc "SELECT 1 FROM pg_database WHERE datname = 'exambank'" | grep -q 1 \
  || psql -q "$server_url" -c "CREATE DATABASE exambank"
export DATABASE_URL="$(scripts/pg.sh url "$pg_port" exambank)"

# a signing key kept with the local data, so tokens survive restarts
if [ -z "${EXAMBANK_JWT_SECRET:-}" ]; then
  [ -f .data/jwt_secret ] || (umask 077; head -c 48 /dev/urandom | base64 | tr -d '\n/+=' > .data/jwt_secret)
  export EXAMBANK_JWT_SECRET="$(cat .data/jwt_secret)"
fi

export SQLX_OFFLINE=true
if [ "$profile" = "dev" ]; then cargo build --locked; bin=target/debug/exambank
else cargo build --locked --release; bin=target/release/exambank; fi

"$bin" migrate
"$bin" seed
echo "exambank: http://${EXAMBANK_ADDR:-127.0.0.1:8080}  (Ctrl-C stops the server and the database)"
"$bin" serve
