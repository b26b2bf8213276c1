#!/usr/bin/env bash
# Foundation benchmark: provider handshake time, `terraform plan` wall time (no
# provider / Go null provider / paved), the provider's peak RSS and where a plan's time
# goes (traced plans cut into phases).
# Writes bench/results/foundation.md and bench/results/foundation.json.
#
# Usage: [BUILD=debug] bash bench/foundation.sh [--handshake-runs N] [--plan-runs N] [--phase-runs N]
#   BUILD=debug     benchmark target/debug (default: target/release, the optimised build users run)
#   PAVED_PROVIDER  benchmark this binary instead (no build)
#   PAVED_FLOOR     the floor provider's binary (crates/paved-floor; built beside
#                   the provider when unset, and left out when PAVED_PROVIDER is set)
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../scripts/lib.sh"
# Benchmarks measure the optimised build unless told otherwise.
export BUILD="${BUILD:-release}"

bash "$ROOT/scripts/setup-venv.sh"

if [[ -n "${PAVED_PROVIDER:-}" ]]; then
  cmd="PAVED_PROVIDER=$PAVED_PROVIDER bash bench/foundation.sh${*:+ $*}"
else
  cmd="BUILD=${BUILD} bash bench/foundation.sh${*:+ $*}"
fi
floor=()
[[ -n "${PAVED_FLOOR:-}" ]] && cmd="PAVED_FLOOR=$PAVED_FLOOR $cmd"
if [[ -z "${PAVED_PROVIDER:-}" && -z "${PAVED_FLOOR:-}" ]]; then
  log "Building the floor provider (cargo build -p paved-floor, $BUILD)"
  profile_flag=()
  [[ "$BUILD" == release ]] && profile_flag=(--release)
  cargo build "${profile_flag[@]}" --manifest-path "$ROOT/Cargo.toml" -p paved-floor
  PAVED_FLOOR="${CARGO_TARGET_DIR:-$ROOT/target}/$BUILD/terraform-provider-floor"
fi
if [[ -n "${PAVED_FLOOR:-}" ]]; then
  floor=(--floor "$PAVED_FLOOR")
fi
build_provider
PAVED_PROVIDER="$(provider_binary)"

log "Benchmarking $PAVED_PROVIDER"
exec "$VENV/bin/python" "$ROOT/bench/foundation.py" --provider "$PAVED_PROVIDER" "${floor[@]}" --command "$cmd" "$@"
