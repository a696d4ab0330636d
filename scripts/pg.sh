#!/usr/bin/env bash
# Manage a local PostgreSQL cluster from the system's binaries (no server needs to be running).
#
#   scripts/pg.sh start DIR PORT   create DIR on first use (initdb), then start it on PORT
#   scripts/pg.sh stop DIR         stop it (fast shutdown)
#   scripts/pg.sh url PORT [DB]    print a DATABASE_URL for it
#
# initdb and postgres refuse to run as root; as root the cluster is run as the `postgres`
# user, and DIR is handed to that user. The server listens on 127.0.0.1 only, with trust
# authentication for local connections: it is a development and test cluster.
set -euo pipefail

PG_BIN="${PG_BIN:-}"
if [ -z "$PG_BIN" ]; then
  for v in 17 16 15 14; do
    if [ -x "/usr/lib/postgresql/$v/bin/initdb" ]; then PG_BIN="/usr/lib/postgresql/$v/bin"; break; fi
  done
fi
if [ -z "$PG_BIN" ] && command -v initdb >/dev/null; then PG_BIN="$(dirname "$(command -v initdb)")"; fi
[ -n "$PG_BIN" ] || { echo "pg.sh: no PostgreSQL binaries found (install postgresql)" >&2; exit 1; }

as_pg() {
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

cmd="${1:-}"; shift || true
case "$cmd" in
  start)
    dir="$1"; port="$2"
    mkdir -p "$dir"
    dir="$(cd "$dir" && pwd)"
    if [ "$(id -u)" = 0 ]; then
      id postgres >/dev/null 2>&1 || useradd --system --home-dir /var/lib/postgresql --shell /bin/bash postgres
      chown postgres: "$dir"
      # the postgres user must be able to reach DIR
      p="$dir"; while [ "$p" != / ]; do p="$(dirname "$p")"; chmod o+x "$p" 2>/dev/null || true; done
    fi
    if [ ! -f "$dir/data/PG_VERSION" ]; then
      as_pg "$PG_BIN/initdb" -D "$dir/data" -U postgres --auth=trust --encoding=UTF8 --locale=C.UTF-8 >"$dir/initdb.log" 2>&1 \
        || { cat "$dir/initdb.log" >&2; exit 1; }
    fi
    if as_pg "$PG_BIN/pg_ctl" -D "$dir/data" status >/dev/null 2>&1; then
      echo "pg.sh: already running in $dir" >&2
      exit 0
    fi
    as_pg "$PG_BIN/pg_ctl" -D "$dir/data" -l "$dir/postgres.log" -w -t 30 \
      -o "-p $port -c listen_addresses=127.0.0.1 -k $dir -c max_connections=400 -c fsync=${PG_FSYNC:-on} -c shared_buffers=256MB ${PG_OPTS:-}" start >/dev/null \
      || { tail -n 30 "$dir/postgres.log" >&2; exit 1; }
    ;;
  stop)
    dir="$(cd "$1" && pwd)"
    if [ -f "$dir/data/postmaster.pid" ]; then
      as_pg "$PG_BIN/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null || true
    fi
    ;;
  url)
    echo "postgres://postgres@127.0.0.1:$1/${2:-postgres}"
    ;;
  *)
    sed -n '2,9p' "$0"; exit 2 ;;
esac
