#!/usr/bin/env bash
# A local Citus cluster: one coordinator and two workers, three ordinary PostgreSQL instances
# from the system's binaries with the citus extension preloaded (docs/scaling.md).
#
#   scripts/citus.sh up [DIR] [BASE_PORT]   install Citus if missing, create and start the three
#                                           instances (coordinator on BASE_PORT, workers on
#                                           BASE_PORT+1 and +2), join them, print DATABASE_URL
#   scripts/citus.sh down [DIR]             stop them and remove DIR
#   scripts/citus.sh status [DIR]           what runs, and the nodes the coordinator knows
#   scripts/citus.sh url [DIR]              print the coordinator's DATABASE_URL
#
# DIR defaults to /tmp/exambank-citus, BASE_PORT to 16031. Idempotent: `up` on a running
# cluster only checks the membership. As root the instances run as the `postgres` user (like
# scripts/pg.sh, which does the initdb and start).
#
# Citus switches TLS on with a self-signed certificate when the extension is created; the
# nodes talk to each other over it (sslmode=require), and the printed URL uses
# sslmode=disable, which is fine on loopback only.
#
# Citus is not packaged for this Debian: when citus.so is missing, `up` builds it from
# ../shared/citus/install.sh (5-8 minutes). That may upgrade the postgresql-15 package, and
# clusters already running from the old binaries then fail to load extensions until they are
# restarted: run `up` (or the installer) before starting other clusters. CITUS_INSTALLER names
# another copy of install.sh.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/.." && pwd)"

cmd="${1:-}"; shift || true
dir="${1:-${CITUS_DIR:-/tmp/exambank-citus}}"
base="${2:-${CITUS_PORT:-16031}}"
ports=("$base" "$((base + 1))" "$((base + 2))")
names=(coordinator worker1 worker2)

PG_BIN="${PG_BIN:-}"
if [ -z "$PG_BIN" ]; then
  for v in 17 16 15 14; do
    if [ -x "/usr/lib/postgresql/$v/bin/initdb" ]; then PG_BIN="/usr/lib/postgresql/$v/bin"; break; fi
  done
fi
psql_bin="${PG_BIN:+$PG_BIN/}psql"

as_pg() {
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

# psql PORT SQL: one statement on the instance's `postgres` database, over its socket dir
q() {
  local port="$1"; shift
  PGSSLMODE=disable "$psql_bin" -X -q -v ON_ERROR_STOP=1 -At -h 127.0.0.1 -p "$port" -U postgres -d postgres -c "$1"
}

install_citus() {
  local libdir
  libdir="$("${PG_BIN:+$PG_BIN/}pg_config" --pkglibdir 2>/dev/null || pg_config --pkglibdir)"
  [ -f "$libdir/citus.so" ] && return 0
  local installer="${CITUS_INSTALLER:-$root/../shared/citus/install.sh}"
  if [ ! -x "$installer" ] && [ ! -f "$installer" ]; then
    echo "citus.sh: citus.so is not in $libdir and $installer is missing" >&2
    exit 1
  fi
  echo "citus.sh: installing Citus from $installer (5-8 minutes)." >&2
  echo "citus.sh: WARNING: this may upgrade the postgresql-15 package; PostgreSQL clusters already" >&2
  echo "citus.sh: running from the old binaries must be restarted afterwards. Run it before starting others." >&2
  if [ "$(id -u)" = 0 ]; then bash "$installer"; else sudo bash "$installer"; fi
}

up() {
  install_citus
  mkdir -p "$dir"
  local i
  for i in 0 1 2; do
    # pg.sh initdb's on first use and starts; the options are the server's command line, so
    # they win over postgresql.auto.conf (Citus writes ssl = on there)
    # database propagation: a CREATE DATABASE on the coordinator (the tests' database per
    # test) creates it on the workers too; the stat counters count single- and multi-shard
    # executions (tests/api/citus.rs)
    PG_OPTS="-c shared_preload_libraries=citus -c citus.shard_count=48 -c timezone=UTC -c max_prepared_transactions=200 -c citus.enable_create_database_propagation=on -c citus.enable_stat_counters=on ${CITUS_PG_OPTS:-}" \
      PG_FSYNC="${PG_FSYNC:-on}" "$here/pg.sh" start "$dir/${names[$i]}" "${ports[$i]}" 2>/dev/null \
      || { echo "citus.sh: ${names[$i]} did not start; see $dir/${names[$i]}/postgres.log" >&2; exit 1; }
  done
  for i in 0 1 2; do
    q "${ports[$i]}" "CREATE EXTENSION IF NOT EXISTS citus"
  done
  q "${ports[0]}" "SELECT citus_set_coordinator_host('127.0.0.1', ${ports[0]})" >/dev/null
  for i in 1 2; do
    q "${ports[0]}" "SELECT citus_add_node('127.0.0.1', ${ports[$i]})
                     WHERE NOT EXISTS (SELECT 1 FROM pg_dist_node WHERE nodename = '127.0.0.1' AND nodeport = ${ports[$i]})" >/dev/null
  done
  local active
  active="$(q "${ports[0]}" "SELECT count(*) FROM citus_get_active_worker_nodes()")"
  [ "$active" = 2 ] || { echo "citus.sh: expected 2 active workers, the coordinator sees $active" >&2; exit 1; }
  echo "citus.sh: coordinator on ${ports[0]}, workers on ${ports[1]} and ${ports[2]} ($dir)" >&2
  url
}

down() {
  local i
  for i in 0 1 2; do
    [ -d "$dir/${names[$i]}" ] && "$here/pg.sh" stop "$dir/${names[$i]}" || true
  done
  rm -rf "$dir"
  echo "citus.sh: stopped and removed $dir" >&2
}

status() {
  local i port
  for i in 0 1 2; do
    if [ -f "$dir/${names[$i]}/data/postmaster.pid" ] \
      && as_pg "$PG_BIN/pg_ctl" -D "$dir/${names[$i]}/data" status >/dev/null 2>&1; then
      port="$(sed -n 4p "$dir/${names[$i]}/data/postmaster.pid")"
      echo "${names[$i]}: running on port $port ($(q "$port" "SELECT coalesce((SELECT 'citus ' || extversion FROM pg_extension WHERE extname = 'citus'), 'no citus extension')"))"
    else
      echo "${names[$i]}: not running"
    fi
  done
  if [ -f "$dir/${names[0]}/data/postmaster.pid" ]; then
    port="$(sed -n 4p "$dir/${names[0]}/data/postmaster.pid")"
    q "$port" "SELECT 'node ' || nodeid || ': ' || nodename || ':' || nodeport || ' ' || noderole || CASE WHEN groupid = 0 THEN ' (coordinator)' ELSE '' END || CASE WHEN isactive THEN '' ELSE ' INACTIVE' END FROM pg_dist_node ORDER BY nodeid" 2>/dev/null || true
  fi
}

url() {
  echo "DATABASE_URL=postgres://postgres@127.0.0.1:${ports[0]}/postgres?sslmode=disable"
}

case "$cmd" in
  up) up ;;
  down) down ;;
  status) status ;;
  url) url ;;
  *) sed -n '2,24p' "$0"; exit 2 ;;
esac
