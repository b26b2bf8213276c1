#!/usr/bin/env bash
# Stack benchmark: N production cluster+database pairs with real Terraform against moto
# behind the fault proxy (50 ms per call): apply, plan wall time and AWS calls, refresh
# cost per resource type, the apply's critical path and the provider's peak RSS.
# Writes bench/results/stacks.md and bench/results/stacks.json (or into --out DIR); then
# `python3 bench/charts.py` redraws the charts in bench/results/ from the json files.
#
# Usage: [N_LIST=1,10,50] [BUILD=debug] bash bench/stacks.sh [--plan-runs N] [--latency-ms N]
#          [--replay] [--time-scale N]
#   --replay        measured plans answered from reads the proxy recorded (moto out of the plan timings)
#   --time-scale N  apply under the proxy's provisioning-time model, reported in modelled minutes
#   N_LIST          pairs per configuration (default 1,10,50; N_LIST=1,10 to shorten)
#   BUILD=debug     benchmark target/debug (default: target/release, the optimised build users run)
#   PAVED_PROVIDER  benchmark this provider binary instead (no build)
#   PAVED_FAULT_PROXY  use this paved-fault-proxy binary instead (no build)
#   PLAN_RUNS=3 PLAN_RUNS_LARGE=1  plan runs per size, and for 50 pairs or more
#   DB_KEY=cluster  encrypt each database with its cluster's KMS key (default: its own)
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../scripts/lib.sh"
# Benchmarks measure the optimised build unless told otherwise.
export BUILD="${BUILD:-release}"

bash "$ROOT/scripts/setup-venv.sh"

n_list="${N_LIST:-1,10,50}"
if [[ -n "${PAVED_PROVIDER:-}" ]]; then
  cmd="N_LIST=$n_list PAVED_PROVIDER=$PAVED_PROVIDER bash bench/stacks.sh${*:+ $*}"
else
  cmd="N_LIST=$n_list BUILD=${BUILD} bash bench/stacks.sh${*:+ $*}"
fi
build_provider
PAVED_PROVIDER="$(provider_binary)"

if [[ -z "${PAVED_FAULT_PROXY:-}" ]]; then
  log "Building paved-fault-proxy (cargo build, ${BUILD})"
  profile_flag=()
  [[ "${BUILD}" == release ]] && profile_flag=(--release)
  cargo build "${profile_flag[@]}" --manifest-path "$ROOT/Cargo.toml" -p paved-testbed --bin paved-fault-proxy
  PAVED_FAULT_PROXY="$(dirname "$PAVED_PROVIDER")/paved-fault-proxy"
fi

log "Benchmarking $PAVED_PROVIDER (pairs: $n_list)"
exec "$VENV/bin/python" "$ROOT/bench/stacks.py" --provider "$PAVED_PROVIDER" --proxy "$PAVED_FAULT_PROXY" \
  --n-list "$n_list" --command "$cmd" "$@"
