#!/usr/bin/env bash
# The benchmark suite, in one command, on loopback only:
#
#   bench/run.sh
#
# Builds the release service and harness, generates fixtures (W1 on SQLite; W2 on
# PostgreSQL when FEATHER_BENCH_DATABASE_URL names an EMPTY database, else W2 is skipped),
# installs nginx-light if missing, runs the load phases (W1 warm alternated with an nginx
# static baseline, W1 cache off, W1 conditional, W2) and prints the table. The JSON report
# goes to target/bench/.
#
# Knobs (environment):
#   BENCH_DURATION=10      measured seconds per phase
#   BENCH_WARMUP=2         unmeasured warm-up seconds per phase
#   BENCH_CONCURRENCY=32   connections of the load generator
#   BENCH_W2_ORGS=10000    W2 background organizations (10 connections x 20 tools each)
#   FEATHER_BENCH_DATABASE_URL=postgres://...   an empty database for W2
#   FEATHER_BENCH_W1_DATABASE_URL=postgres://... another empty database on the same server:
#                          W1 alone on PostgreSQL, the like-for-like baseline of W2
#   BENCH_W2_SQLITE=1      without a PostgreSQL URL: W2 on SQLite (~7 GB in the scratch dir)
#   BENCH_KEEP=1           keep the scratch directory (fixtures, service logs)
#   BENCH_ONLY=agents      only the phases of the MCP endpoint for agents (tools/list,
#                          tools/call, the listing while agents call)
#   BENCH_SERVICE_BIN=PATH load another build of feather-integrations (say, an older
#                          commit's release binary) with this harness: before and after
#
# Micro-benchmarks (criterion) are separate: cargo bench -p feather-bench
set -euo pipefail

cd "$(dirname "$0")/.."
root=$(pwd)

duration=${BENCH_DURATION:-10}
warmup=${BENCH_WARMUP:-2}
concurrency=${BENCH_CONCURRENCY:-32}
w2_orgs=${BENCH_W2_ORGS:-10000}

scratch=$(mktemp -d -t feather-bench.XXXXXX)
cleanup() {
    # Every process the harness starts is a child of feather-bench, stopped by its guards;
    # this only removes the scratch files.
    if [[ "${BENCH_KEEP:-}" == 1 ]]; then
        echo "scratch kept in $scratch"
    else
        rm -rf "$scratch"
    fi
}
trap cleanup EXIT

echo "==> building (release)"
cargo build --release --locked -p feather-integrations -p feather-bench

nginx_bin=""
if command -v nginx >/dev/null 2>&1; then
    nginx_bin=$(command -v nginx)
elif [[ -x /usr/sbin/nginx ]]; then
    nginx_bin=/usr/sbin/nginx
elif [[ $(id -u) == 0 ]] && command -v apt-get >/dev/null 2>&1; then
    echo "==> installing nginx-light (static baseline)"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nginx-light >/dev/null
    # The package starts a system nginx on port 80; the benchmark runs its own.
    if command -v systemctl >/dev/null 2>&1; then systemctl stop nginx 2>/dev/null || true; fi
    nginx_bin=/usr/sbin/nginx
fi

bench=target/release/feather-bench

echo "==> fixtures: W1 (SQLite)"
"$bench" fixtures w1 --data-dir "$scratch/w1" --manifest "$scratch/w1.json" \
    --database-url "sqlite://$scratch/w1/feather.db" >/dev/null

w2_args=()
if [[ -n "${FEATHER_BENCH_DATABASE_URL:-}" ]]; then
    echo "==> fixtures: W2 (PostgreSQL, $w2_orgs background orgs)"
    start=$(date +%s)
    "$bench" fixtures w2 --data-dir "$scratch/w2" --manifest "$scratch/w2.json" \
        --database-url "$FEATHER_BENCH_DATABASE_URL" --orgs "$w2_orgs" >/dev/null
    echo "    W2 generated in $(($(date +%s) - start)) s"
    w2_args=(--w2 "$scratch/w2.json")
elif [[ "${BENCH_W2_SQLITE:-}" == 1 ]]; then
    echo "==> fixtures: W2 (SQLite in the scratch directory, $w2_orgs background orgs)"
    start=$(date +%s)
    "$bench" fixtures w2 --data-dir "$scratch/w2" --manifest "$scratch/w2.json" \
        --database-url "sqlite://$scratch/w2/feather.db" --orgs "$w2_orgs" >/dev/null
    echo "    W2 generated in $(($(date +%s) - start)) s"
    w2_args=(--w2 "$scratch/w2.json")
else
    echo "==> W2 skipped: set FEATHER_BENCH_DATABASE_URL to an empty PostgreSQL database" \
        "(or BENCH_W2_SQLITE=1 for SQLite) to run it"
fi

if [[ -n "${FEATHER_BENCH_W1_DATABASE_URL:-}" ]]; then
    echo "==> fixtures: W1 (PostgreSQL, W2's baseline)"
    "$bench" fixtures w1 --data-dir "$scratch/w1-postgres" --manifest "$scratch/w1-postgres.json" \
        --database-url "$FEATHER_BENCH_W1_DATABASE_URL" >/dev/null
    w2_args+=(--w1-postgres "$scratch/w1-postgres.json")
fi

nginx_args=(--no-nginx)
if [[ -n "$nginx_bin" ]]; then
    nginx_args=(--nginx "$nginx_bin")
else
    echo "==> nginx not found and not installable here: the static baseline is skipped"
fi

mkdir -p target/bench
report="target/bench/report-$(date -u +%Y%m%dT%H%M%SZ).json"
echo "==> load phases: ${duration}s each (+${warmup}s warm-up), concurrency $concurrency"
"$bench" run \
    --service-bin "${BENCH_SERVICE_BIN:-$root/target/release/feather-integrations}" \
    --w1 "$scratch/w1.json" "${w2_args[@]}" "${nginx_args[@]}" \
    --duration "$duration" --warmup "$warmup" --concurrency "$concurrency" \
    --work-dir "$scratch/run" --json-out "$report" \
    ${BENCH_ONLY:+--only "$BENCH_ONLY"}
cp "$report" target/bench/latest.json
