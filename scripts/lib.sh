# Shared helpers for scripts/demo.sh and friends. Source it; do not run it.
#   source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
# Defines: ROOT, VENV, TF (Terraform 1.15.5 launcher), log/die, provider_binary,
# build_provider, start_moto/stop_moto, make_mirror, tf_env.
# Callers set -euo pipefail.
# shellcheck shell=bash

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="${PAVED_VENV:-$ROOT/.venv}"
TF="$VENV/bin/terraform-1.15" # never a terraform found on PATH
PAVED_VERSION=0.1.0

log() {
  if [[ -t 2 ]]; then
    printf '\n\033[1m==> %s\033[0m\n' "$*" >&2
  else
    printf '\n==> %s\n' "$*" >&2
  fi
}
die() { printf 'ERROR: %s\n' "$*" >&2; exit 1; }

# The provider binary: $PAVED_PROVIDER when set, else the one cargo builds
# (BUILD=release for target/release).
provider_binary() {
  if [[ -n "${PAVED_PROVIDER:-}" ]]; then
    printf '%s\n' "$PAVED_PROVIDER"
    return
  fi
  local target="${CARGO_TARGET_DIR:-$ROOT/target}"
  if [[ "${BUILD:-debug}" == release ]]; then
    printf '%s\n' "$target/release/terraform-provider-paved"
  else
    printf '%s\n' "$target/debug/terraform-provider-paved"
  fi
}

# build_provider: cargo build of the provider binary (release when BUILD=release);
# skipped when PAVED_PROVIDER names a binary to use instead.
build_provider() {
  if [[ -n "${PAVED_PROVIDER:-}" ]]; then
    log "Using the provider binary $PAVED_PROVIDER (PAVED_PROVIDER set: no build)"
    return
  fi
  log "Building the provider (cargo build, ${BUILD:-debug})"
  if [[ "${BUILD:-debug}" == release ]]; then
    cargo build --release --manifest-path "$ROOT/Cargo.toml" --bin terraform-provider-paved
  else
    cargo build --manifest-path "$ROOT/Cargo.toml" --bin terraform-provider-paved
  fi
}

# start_moto LOGFILE: starts moto on 127.0.0.1 and a free port; sets MOTO_PID and
# MOTO_ENDPOINT. Pair with stop_moto in an EXIT trap.
start_moto() {
  local logfile="$1" deadline port=""
  MOTO_IAM_LOAD_MANAGED_POLICIES=true PYTHONUNBUFFERED=1 \
    "$VENV/bin/moto_server" -H 127.0.0.1 -p 0 </dev/null >"$logfile" 2>&1 &
  MOTO_PID=$!
  deadline=$((SECONDS + 60))
  while [[ -z "$port" ]]; do
    kill -0 "$MOTO_PID" 2>/dev/null || { cat "$logfile" >&2; die "moto_server exited during start"; }
    ((SECONDS < deadline)) || { cat "$logfile" >&2; die "moto_server did not start within 60 s"; }
    port="$(sed -n 's|.*Running on http://127\.0\.0\.1:\([0-9][0-9]*\).*|\1|p' "$logfile" | head -n1)"
    [[ -n "$port" ]] || sleep 0.1
  done
  MOTO_ENDPOINT="http://127.0.0.1:$port"
  # Wait until it answers HTTP (no curl needed on a fresh machine).
  "$VENV/bin/python" - "$MOTO_ENDPOINT" <<'PYEOF' || die "moto at $MOTO_ENDPOINT does not answer"
import sys, time, urllib.request
deadline = time.time() + 60
while True:
    try:
        urllib.request.urlopen(sys.argv[1] + "/moto-api/", timeout=5).read()
        break
    except Exception:
        if time.time() > deadline:
            raise
        time.sleep(0.1)
PYEOF
}

stop_moto() {
  if [[ -n "${MOTO_PID:-}" ]]; then
    kill "$MOTO_PID" 2>/dev/null || true
    wait "$MOTO_PID" 2>/dev/null || true
    MOTO_PID=""
  fi
}

# make_mirror DIR: a filesystem mirror in DIR/mirror holding the paved provider (and
# hashicorp/null 2.1.2), and a CLI config DIR/terraform.rc that installs only from it.
make_mirror() {
  local dir="$1" bin pdir ndir null_bin
  bin="$(provider_binary)"
  [[ -x "$bin" ]] || die "provider binary $bin not found (cargo build first)"
  pdir="$dir/mirror/registry.terraform.io/pavedroad/paved/$PAVED_VERSION/linux_amd64"
  mkdir -p "$pdir"
  cp -f "$bin" "$pdir/terraform-provider-paved_v$PAVED_VERSION"
  null_bin="$(cat "$VENV/paved-null-provider-path")"
  ndir="$dir/mirror/registry.terraform.io/hashicorp/null/2.1.2/linux_amd64"
  mkdir -p "$ndir"
  ln -sfn "$null_bin" "$ndir/terraform-provider-null_v2.1.2_x4"
  cat >"$dir/terraform.rc" <<HCL
provider_installation {
  filesystem_mirror {
    path = "$dir/mirror"
  }
}
HCL
  : >"$dir/aws-config" # empty AWS config: nothing from ~/.aws
}

# tf_env DIR ENDPOINT CMD...: runs CMD with the environment the demo and benchmarks
# use: our CLI config (never the machine's), moto's endpoint, test credentials.
tf_env() {
  local dir="$1" endpoint="$2"
  shift 2
  env -u AWS_PROFILE -u AWS_DEFAULT_PROFILE -u AWS_SESSION_TOKEN -u TF_CLI_ARGS \
    -u TF_DATA_DIR -u TF_PLUGIN_CACHE_DIR -u TF_WORKSPACE \
    TF_CLI_CONFIG_FILE="$dir/terraform.rc" \
    CHECKPOINT_DISABLE=1 TF_IN_AUTOMATION=1 \
    AWS_ENDPOINT_URL="$endpoint" \
    AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing \
    AWS_REGION="${AWS_REGION:-us-east-1}" \
    AWS_CONFIG_FILE="$dir/aws-config" AWS_SHARED_CREDENTIALS_FILE="$dir/aws-config" \
    AWS_EC2_METADATA_DISABLED=true \
    "$@"
}
