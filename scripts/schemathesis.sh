#!/usr/bin/env bash
# Fuzzes the HTTP API from its own OpenAPI document with schemathesis: every
# operation, examples + coverage + fuzzing phases, every check (no 5xx, every
# response matches the schema, bad requests refused) but one:
# positive_data_acceptance, because what a schema cannot say is refused on
# purpose (a host outside ALLOWED_GIT_HOSTS, a workflow's own input fields).
#
#   scripts/schemathesis.sh [DEPLOYFLOW_BIN]
#
# It serves `deployflow serve --no-worker` on a throwaway SQLite directory, so
# the deployment jobs it submits are stored, never run. schemathesis is installed
# from PyPI into a virtualenv ($SCHEMATHESIS_VENV, default
# ~/.cache/deployflow-schemathesis) on first use.
set -euo pipefail
cd "$(dirname "$0")/.."

SCHEMATHESIS_VERSION="${SCHEMATHESIS_VERSION:-4.32.5}"
VENV="${SCHEMATHESIS_VENV:-$HOME/.cache/deployflow-schemathesis}"
BIN="${1:-${CARGO_TARGET_DIR:-target}/debug/deployflow}"

if [ "$("$VENV/bin/st" --version 2>/dev/null)" != "st, version $SCHEMATHESIS_VERSION" ]; then
  echo "installing schemathesis $SCHEMATHESIS_VERSION into $VENV"
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install --quiet --disable-pip-version-check "schemathesis==$SCHEMATHESIS_VERSION"
fi

work="$(mktemp -d)"
# An admin token, so every operation is reached; schemathesis also checks that
# the API refuses each one without it.
token="$(DATABASE_URL= DATA_DIR="$work/data" "$BIN" token create --role admin --name schemathesis | tail -n 1)"
port="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
DATABASE_URL= DATA_DIR="$work/data" LISTEN_ADDR="127.0.0.1:$port" WORKFLOWS_DIR="$PWD/workflows" \
  LOG_FORMAT=json RUST_LOG=warn "$BIN" serve --no-worker >"$work/serve.log" 2>&1 &
server=$!
trap 'kill "$server" 2>/dev/null; rm -rf "$work"' EXIT
for _ in $(seq 1 50); do
  curl -fsS "http://127.0.0.1:$port/healthz" >/dev/null 2>&1 && break
  sleep 0.2
done

# From the scratch directory: schemathesis keeps its own state where it runs.
cd "$work"
"$VENV/bin/st" run "http://127.0.0.1:$port/openapi.json" \
  --checks all --exclude-checks positive_data_acceptance --max-examples 30 --phases examples,coverage,fuzzing \
  --seed 20261125 --no-color --header "Authorization: Bearer $token"
