#!/usr/bin/env bash
# The API contract, checked the way a mobile developer meets it:
#   1. openapi-spec-validator accepts the committed spec and the one the server serves, and the
#      committed spec equals what the code generates;
#   2. schemathesis (all checks) against a freshly seeded server, as a learner and as an
#      instructor, with 0 failures;
#   3. a TypeScript client generated with openapi-typescript compiles under `tsc --strict`, and a
#      typed openapi-fetch script logs in, starts an attempt (retried with one Idempotency-Key),
#      saves an answer and submits against the live server.
#
#   scripts/contract.sh            everything
#   CONTRACT_MAX_EXAMPLES=20 scripts/contract.sh   fewer schemathesis cases per operation
#
# Python tools are pinned and installed into target/contract-venv; npm packages are pinned in
# clients/ts/package-lock.json. Node and npm come from Debian when missing (as root).
set -euo pipefail
cd "$(dirname "$0")/.."
export SQLX_OFFLINE=true

SCHEMATHESIS_VERSION=4.32.5
VALIDATOR_VERSION=0.9.0
max_examples="${CONTRACT_MAX_EXAMPLES:-40}"

need_debian() {
  if [ "$(id -u)" = 0 ]; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
  else
    echo "contract.sh: please install the Debian packages: $*" >&2; exit 1
  fi
}
command -v node >/dev/null && command -v npm >/dev/null || need_debian nodejs npm
python3 -c 'import venv' 2>/dev/null || need_debian python3-venv

target_dir="${CARGO_TARGET_DIR:-target}"
venv="$target_dir/contract-venv"
if ! "$venv/bin/schemathesis" --version 2>/dev/null | grep -q "$SCHEMATHESIS_VERSION" \
   || ! "$venv/bin/pip" show openapi-spec-validator 2>/dev/null | grep -q "Version: $VALIDATOR_VERSION"; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install -q "schemathesis==$SCHEMATHESIS_VERSION" "openapi-spec-validator==$VALIDATOR_VERSION"
fi

cargo build --locked --quiet
bin="$target_dir/debug/exambank"

work="$(mktemp -d /tmp/exambank-contract.XXXXXX)"
cluster=""; server=""
cleanup() {
  [ -n "$server" ] && kill "$server" 2>/dev/null && wait "$server" 2>/dev/null
  [ -n "$cluster" ] && { scripts/pg.sh stop "$cluster" || true; }
  rm -rf "$work"
  return 0
}
trap cleanup EXIT INT TERM

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# 1. the committed spec is current and valid
"$bin" openapi > "$work/generated.json"
if ! diff -q openapi/openapi.json "$work/generated.json" >/dev/null; then
  echo "contract.sh: openapi/openapi.json is stale; run scripts/openapi.sh" >&2
  diff <(python3 -m json.tool openapi/openapi.json) <(python3 -m json.tool "$work/generated.json") | head -40 >&2
  exit 1
fi
"$venv/bin/openapi-spec-validator" openapi/openapi.json

# a fresh database, seeded, two accounts, a server
if [ -z "${DATABASE_URL:-}" ]; then
  cluster="$work/pg"
  pg_port="$(free_port)"
  PG_FSYNC=off scripts/pg.sh start "$cluster" "$pg_port"
  server_url="$(scripts/pg.sh url "$pg_port")"
else
  server_url="${DATABASE_URL%/*}/postgres"
fi
db="exambank_contract_$$"
psql -q "$server_url" -c "CREATE DATABASE $db" >/dev/null
export DATABASE_URL="${server_url%/*}/$db"
"$bin" migrate
"$bin" seed >/dev/null
export EXAMBANK_NEW_PASSWORD="contract-password-1234"
"$bin" create-user --email learner@contract.test --name "Contract Learner" >/dev/null
"$bin" create-user --email instructor@contract.test --name "Contract Instructor" --role instructor >/dev/null

port="$(free_port)"
base="http://127.0.0.1:$port"
EXAMBANK_ADDR="127.0.0.1:$port" EXAMBANK_LOG_FORMAT=json RUST_LOG=warn \
  EXAMBANK_LOGIN_LIMIT_PER_ACCOUNT=100000 EXAMBANK_LOGIN_LIMIT_PER_ADDRESS=100000 \
  "$bin" serve >"$work/server.log" 2>&1 &
server=$!
for _ in $(seq 1 100); do curl -fsS "$base/healthz" >/dev/null 2>&1 && break; sleep 0.1; done
curl -fsS "$base/healthz" >/dev/null

curl -fsS "$base/api-docs/openapi.json" > "$work/served.json"
"$venv/bin/openapi-spec-validator" "$work/served.json"

token() {
  curl -fsS -X POST "$base/api/v1/auth/login" -H 'content-type: application/json' \
    -d "{\"email\":\"$1\",\"password\":\"$EXAMBANK_NEW_PASSWORD\"}" \
    | python3 -c 'import json,sys; print(json.load(sys.stdin)["access_token"])'
}

# 2. schemathesis, all checks, as each role
status=0
for who in learner instructor; do
  echo "== schemathesis as $who"
  tok="$(token "$who@contract.test")"
  "$venv/bin/schemathesis" run "$base/api-docs/openapi.json" \
      --url "$base" \
      --checks all \
      --max-examples "$max_examples" \
      --header "Authorization: Bearer $tok" \
      --seed 1 \
      --no-color \
      --suppress-health-check all \
    || status=1
done
[ "$status" = 0 ] || { echo "contract.sh: schemathesis found failures" >&2; tail -20 "$work/server.log" >&2; exit 1; }

# 3. the generated TypeScript client and its script
(
  cd clients/ts
  npm ci --no-audit --no-fund --loglevel=error
  npx --no-install openapi-typescript ../../openapi/openapi.json -o src/schema.d.ts >/dev/null
  npx --no-install tsc --strict -p .
  EXAMBANK_URL="$base" EXAMBANK_EMAIL=learner@contract.test EXAMBANK_PASSWORD="$EXAMBANK_NEW_PASSWORD" \
    node dist/smoke.js
)
echo "contract.sh: spec valid, schemathesis 0 failures, TypeScript client green"
