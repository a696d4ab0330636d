#!/usr/bin/env bash
# Regenerate the committed OpenAPI document from the code.
set -euo pipefail
cd "$(dirname "$0")/.."
SQLX_OFFLINE=true cargo run --quiet -- openapi > openapi/openapi.json
echo "wrote openapi/openapi.json"
