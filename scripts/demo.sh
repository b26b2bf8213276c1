#!/usr/bin/env bash
# The demo on a fresh machine: build the provider, start moto (local AWS emulator)
# behind the test bed's proxy (which serves the EKS calls moto lacks: add-ons,
# version updates, access entries) and the Kubernetes API stand-in paved-kube-fake
# for cluster "shop" (the example reaches it through kubernetes_api, set from
# TF_VAR_kubernetes_api_url/_ca), and run each example through Terraform 1.15.5 as a
# user would:
# init, plan, apply, output, state list, and a plan that must show no changes.
#
# Usage: scripts/demo.sh [EXAMPLE_DIR...]
#   EXAMPLE_DIR  example root modules, run in the order given
#                (default: the demo stack in DEMO_EXAMPLES below)
# Environment:
#   BUILD=release       use a release build of the provider
#   PAVED_PROVIDER=BIN  use this provider binary (no cargo build)
#   PAVED_DEMO_DIR      work directory (default: <repo>/.work/demo; wiped first)
#   DEMO_DESTROY=1      destroy every example (in reverse order) at the end
#   TF_LOG=debug        Terraform and provider logs
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

# The demo stack, in apply order. Add examples here as resources land.
DEMO_EXAMPLES=(
  examples/data-sources/zones
  examples/managed_database/production-with-cluster
)
if (($# > 0)); then
  DEMO_EXAMPLES=("$@")
fi
for ex in "${DEMO_EXAMPLES[@]}"; do
  [[ -d "$ROOT/$ex" || -d "$ex" ]] || die "example directory $ex not found"
done

log "Python venv (Terraform, moto)"
bash "$ROOT/scripts/setup-venv.sh"

build_provider
log "Building the stand-ins (paved-fault-proxy, paved-kube-fake)"
cargo build --manifest-path "$ROOT/Cargo.toml" -p paved-testbed --bins
STANDIN_BIN="${CARGO_TARGET_DIR:-$ROOT/target}/debug"

WORK="${PAVED_DEMO_DIR:-$ROOT/.work/demo}"
rm -rf "$WORK"
mkdir -p "$WORK"
WORK="$(cd "$WORK" && pwd)"

MOTO_PID=""
trap stop_moto EXIT
trap 'exit 130' INT TERM
log "Starting moto on 127.0.0.1"
start_moto "$WORK/moto.log"
echo "moto: $MOTO_ENDPOINT (pid $MOTO_PID, log $WORK/moto.log)"

# start_standin NAME LOGFILE CMD...: starts a stand-in that prints
# "Listening on URL" first; sets STANDIN_URL and appends its pid to STANDIN_PIDS.
STANDIN_PIDS=()
stop_all() {
  for pid in "${STANDIN_PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  stop_moto
}
trap stop_all EXIT
start_standin() {
  local name="$1" logfile="$2"
  shift 2
  local fifo="$WORK/$name.out"
  "$@" >"$fifo" 2>"$logfile" &
  STANDIN_PIDS+=("$!")
  for _ in $(seq 1 100); do
    STANDIN_URL="$(sed -n 's/^Listening on //p' "$fifo" | head -n1)"
    [[ -n "$STANDIN_URL" ]] && return 0
    sleep 0.1
  done
  die "$name did not start (log: $logfile)"
}
start_standin proxy "$WORK/proxy.log" "$STANDIN_BIN/paved-fault-proxy" --upstream "$MOTO_ENDPOINT" --eks-stand-ins
AWS_ENDPOINT="$STANDIN_URL"
echo "AWS proxy:  $AWS_ENDPOINT (EKS add-ons, version updates and access entries served)"
start_standin kube "$WORK/kube.log" "$STANDIN_BIN/paved-kube-fake" --kubeconfig "$WORK/kubeconfig" --eks-cluster shop
export TF_VAR_kubernetes_api_url="$STANDIN_URL"
TF_VAR_kubernetes_api_ca="$(python3 -c 'import base64,re,sys; t=open(sys.argv[1]).read(); print(base64.b64decode(re.search(r"certificate-authority-data: *(\S+)", t).group(1)).decode())' "$WORK/kubeconfig")"
export TF_VAR_kubernetes_api_ca
echo "Kubernetes: $TF_VAR_kubernetes_api_url (kubeconfig $WORK/kubeconfig; try: kubectl --kubeconfig $WORK/kubeconfig get ns)"

make_mirror "$WORK"
echo "provider mirror: $WORK/mirror"
echo "CLI config:      $WORK/terraform.rc"
echo "terraform:       $("$TF" version | head -n1) ($TF)"

tf() { tf_env "$WORK" "$AWS_ENDPOINT" "$TF" "$@"; }
# Colours on a terminal only (CI logs stay readable).
nc=()
[[ -t 1 ]] || nc=(-no-color)

run_dirs=()
for ex in "${DEMO_EXAMPLES[@]}"; do
  src="$ROOT/$ex"
  [[ -d "$src" ]] || src="$ex"
  name="$(basename "$(dirname "$src")")-$(basename "$src")"
  dir="$WORK/stack/$name"
  mkdir -p "$dir"
  cp -R "$src/." "$dir/"
  rm -rf "$dir/.terraform" "$dir/.terraform.lock.hcl" "$dir"/terraform.tfstate*
  run_dirs+=("$dir")

  log "[$ex] terraform init"
  (cd "$dir" && tf init "${nc[@]}" -input=false)
  log "[$ex] terraform plan"
  (cd "$dir" && tf plan "${nc[@]}" -input=false)
  log "[$ex] terraform apply -auto-approve"
  (cd "$dir" && tf apply "${nc[@]}" -input=false -auto-approve)
  log "[$ex] terraform output"
  (cd "$dir" && tf output "${nc[@]}")
  log "[$ex] terraform state list"
  (cd "$dir" && tf state list)
  log "[$ex] terraform plan -detailed-exitcode (expect: no changes)"
  rc=0
  (cd "$dir" && tf plan "${nc[@]}" -input=false -detailed-exitcode) || rc=$?
  case "$rc" in
    0) echo "OK: no changes after apply" ;;
    2) die "[$ex] plan after apply shows changes (see above)" ;;
    *) die "[$ex] plan after apply failed (exit $rc)" ;;
  esac
done

if [[ "${DEMO_DESTROY:-0}" == 1 ]]; then
  for ((i = ${#run_dirs[@]} - 1; i >= 0; i--)); do
    log "[$(basename "${run_dirs[$i]}")] terraform destroy -auto-approve"
    (cd "${run_dirs[$i]}" && tf destroy "${nc[@]}" -input=false -auto-approve)
  done
fi

log "Demo finished: ${#DEMO_EXAMPLES[@]} example(s) applied; work dir $WORK"
