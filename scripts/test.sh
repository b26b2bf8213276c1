#!/usr/bin/env bash
# Every test, on a fresh machine (and in CI: `bash .ci/run`):
#   1. the Python venv (real Terraform 1.15.5 and 1.0.3, moto, the Go null provider)
#   2. the layer rules: python3 scripts/check-layers.py (and its self-test)
#   2b. cargo fmt --all --check
#   3. cargo clippy --workspace --all-targets -- -D warnings
#   4. cargo test --workspace (unit, property and end-to-end tests; kubectl judges
#      the Kubernetes stand-in: Debian's kubernetes-client is installed when absent;
#      promtool/amtool judge the rendered observability configs and real Prometheus and
#      Alertmanager run a loopback alert: Debian's prometheus and prometheus-alertmanager
#      are installed when absent, no service started; PAVED_REQUIRE_TOOLS=1 makes
#      those tests fail rather than skip when a binary is missing)
#   4b. bash scripts/check-manifests.sh (kubernetes-validate and checkov judge the
#      rendered in-cluster baseline)
#   4c. bash scripts/check-recipes.sh (CI recipes by actionlint and a YAML check, the
#      Terragrunt example parsed and each unit planned, `terraform test` with
#      mock_provider, `terraform fmt -check` over examples/)
#   4d. bash scripts/check-release.sh (release packages installed by Terraform from a
#      filesystem mirror and an HTTPS network mirror, lock hashes, a tampered zip
#      refused, the GPG signature)
#   5. bash fuzz/run.sh, when present (FUZZ_SECONDS per target, default 30)
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

export PAVED_VENV="${PAVED_VENV:-$ROOT/.venv}"
export CARGO_TERM_COLOR="${CARGO_TERM_COLOR:-never}"
# No incremental artefacts: a cold CI build never reuses them, and they double the
# target directory (a CI machine once ran out of disk in the test build).
export CARGO_INCREMENTAL="${CARGO_INCREMENTAL:-0}"
# Lean disk (PAVED_LEAN_DISK=1; .ci/run sets it). A CI machine's free disk varies and a
# cold build ran out of it in the test build twice. In lean mode:
# - clippy checks into its own target directory, removed once the lints pass (its
#   dependencies are metadata-only builds the test build cannot reuse);
# - the debug build carries no debug info (no line tables in our crates, std's stripped
#   from the binaries): backtraces name functions, not lines;
# - the debug build is removed before fuzzing, the last step, which builds its own.
# Each step prints the free disk, so a CI log shows where it went.
TARGET_DIR="${CARGO_TARGET_DIR:-$ROOT/target}"
LEAN_DISK="${PAVED_LEAN_DISK:-0}"
if [[ $LEAN_DISK == 1 ]]; then
  export CARGO_PROFILE_DEV_DEBUG="${CARGO_PROFILE_DEV_DEBUG:-false}"
  export CARGO_PROFILE_DEV_STRIP="${CARGO_PROFILE_DEV_STRIP:-debuginfo}"
fi
# The machine's Terraform CLI config (if any) must not matter; tests set their own.
unset TF_CLI_CONFIG_FILE

step_no=0
step() {
  step_no=$((step_no + 1))
  printf '\n==================================================================\n' >&2
  printf '== %d. %s\n' "$step_no" "$*" >&2
  printf '==================================================================\n' >&2
  disk_report
}
disk_report() {
  local used="none yet"
  [[ -d $TARGET_DIR ]] && used="$(du -sh "$TARGET_DIR" 2>/dev/null | cut -f1)"
  printf '[disk] free %s on %s; target directory %s\n' \
    "$(df -h --output=avail "$ROOT" 2>/dev/null | tail -n 1 | tr -d ' ')" "$ROOT" "$used" >&2
}
started=$SECONDS
on_exit() {
  local rc=$?
  disk_report
  if ((rc == 0)); then
    printf '\n== ALL STEPS PASSED (%d s)\n' "$((SECONDS - started))" >&2
  else
    printf '\n== FAILED in step %d (exit %d, after %d s)\n' "$step_no" "$rc" "$((SECONDS - started))" >&2
  fi
}
trap on_exit EXIT

step "Python venv: scripts/setup-venv.sh"
bash scripts/setup-venv.sh

step "Layers: python3 scripts/check-layers.py (imports point down; no resource imports another)"
python3 scripts/check-layers.py --self-test
python3 scripts/check-layers.py

step "Benchmark charts: python3 bench/charts.py --check (the SVGs are what bench/results/*.json give)"
python3 bench/charts.py --check

step "Formatting: cargo fmt --all --check"
cargo fmt --all --check

step "Lints: cargo clippy --workspace --all-targets -- -D warnings"
if [[ $LEAN_DISK == 1 ]]; then
  cargo clippy --workspace --all-targets --target-dir "$TARGET_DIR/clippy" -- -D warnings
  rm -rf "$TARGET_DIR/clippy"
else
  cargo clippy --workspace --all-targets -- -D warnings
fi

if ! command -v kubectl >/dev/null 2>&1; then
  step "kubectl: installing Debian's kubernetes-client (it judges the Kubernetes stand-in)"
  if command -v apt-get >/dev/null 2>&1; then
    SUDO=""
    [[ $(id -u) -ne 0 ]] && SUDO="sudo"
    $SUDO apt-get update -qq && $SUDO apt-get install -y -qq kubernetes-client
  else
    echo "no kubectl and no apt-get: the kubectl tests will report themselves skipped" >&2
  fi
fi

# Prometheus 2.42 (prometheus, promtool) and Alertmanager 0.25 (prometheus-alertmanager,
# amtool) from Debian: they check the rendered observability configs and run the
# loopback alert test. Their postinst would start the services: a policy-rc.d answering
# 101 ("action forbidden") for the install stops that, and any daemon that got started
# anyway (a host with systemd ignoring it) is stopped and disabled afterwards.
if ! command -v promtool >/dev/null 2>&1 || ! command -v amtool >/dev/null 2>&1 \
  || ! command -v prometheus >/dev/null 2>&1 \
  || ! { command -v prometheus-alertmanager || command -v alertmanager; } >/dev/null 2>&1; then
  step "Prometheus tools: installing Debian's prometheus and prometheus-alertmanager (no services started)"
  if command -v apt-get >/dev/null 2>&1; then
    SUDO=""
    [[ $(id -u) -ne 0 ]] && SUDO="sudo"
    policy=/usr/sbin/policy-rc.d
    policy_saved=""
    if [[ -e $policy ]]; then
      policy_saved="$(mktemp)"
      $SUDO cp -p "$policy" "$policy_saved"
    fi
    printf '#!/bin/sh\n# paved scripts/test.sh: no service starts during this install\nexit 101\n' \
      | $SUDO tee "$policy" >/dev/null
    $SUDO chmod 755 "$policy"
    install_rc=0
    $SUDO apt-get update -qq \
      && $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq -o Dpkg::Use-Pty=0 --no-install-recommends \
        prometheus prometheus-alertmanager || install_rc=$?
    if [[ -n $policy_saved ]]; then
      $SUDO cp -p "$policy_saved" "$policy"
      $SUDO rm -f "$policy_saved"
    else
      $SUDO rm -f "$policy"
    fi
    ((install_rc == 0)) || exit "$install_rc"
    if [[ -d /run/systemd/system ]] && command -v systemctl >/dev/null 2>&1; then
      for unit in prometheus prometheus-alertmanager; do
        $SUDO systemctl disable --now "$unit" >/dev/null 2>&1 || true
      done
    fi
  else
    echo "no promtool/amtool and no apt-get: with PAVED_REQUIRE_TOOLS=1 their tests fail" >&2
  fi
fi

step "Tests: cargo test --workspace (PAVED_VENV=$PAVED_VENV, PAVED_REQUIRE_TOOLS=1)"
mkdir -p target
test_log="target/test-output.log"
# The tests that run promtool, amtool, prometheus and alertmanager fail when one is
# missing instead of reporting themselves skipped.
export PAVED_REQUIRE_TOOLS=1
cargo test --workspace 2>&1 | tee "$test_log"
passed=$(grep -Eo '^test result: .* ([0-9]+) passed' "$test_log" | grep -Eo '[0-9]+ passed' | awk '{s += $1} END {print s + 0}')
failed=$(grep -Eo '; ([0-9]+) failed' "$test_log" | grep -Eo '[0-9]+' | awk '{s += $1} END {print s + 0}')

step "Manifests: bash scripts/check-manifests.sh (kubernetes-validate, checkov)"
bash scripts/check-manifests.sh

# The provider the tests built (cargo test builds the package's binary for them).
export PAVED_PROVIDER="${PAVED_PROVIDER:-${CARGO_TARGET_DIR:-$ROOT/target}/debug/terraform-provider-paved}"

step "Recipes: bash scripts/check-recipes.sh (fmt, actionlint, GitLab CI, Terragrunt units planned, terraform test)"
bash scripts/check-recipes.sh

step "Release: bash scripts/check-release.sh (packages, mirrors over HTTPS, lock hashes, tampering, GPG)"
bash scripts/check-release.sh

if [[ $LEAN_DISK == 1 ]]; then
  # Nothing after this point uses the debug build.
  rm -rf "$TARGET_DIR/debug"
fi

if [[ -f fuzz/run.sh ]]; then
  step "Fuzzing: bash fuzz/run.sh (FUZZ_SECONDS=${FUZZ_SECONDS:-30})"
  # libFuzzer prints a line per corpus event: keep it in a file, show the end.
  fuzz_log="target/fuzz-output.log"
  if ! FUZZ_SECONDS="${FUZZ_SECONDS:-30}" bash fuzz/run.sh > "$fuzz_log" 2>&1; then
    tail -n 60 "$fuzz_log" >&2
    exit 1
  fi
  grep -E '^(Done|stat::|INFO: fuzzing|fuzzing|#[0-9]+\s+DONE)' "$fuzz_log" | tail -n 8 || true
  tail -n 3 "$fuzz_log"
else
  step "Fuzzing: skipped (no fuzz/run.sh)"
fi

# One plain closing line for CI, counted from the cargo test summaries above.
echo "tests: ${passed} passed, ${failed} failed"
