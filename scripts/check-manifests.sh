#!/usr/bin/env bash
# Judge the in-cluster baseline and the observability stack with third-party validators:
#   1. render the example baselines (production, staging, development on EKS and GKE)
#      as GitOps files: cargo run -p paved-manifests --example render -- OUT_DIR
#      and the example observability stacks (the same profiles and clouds self-hosted,
#      production on EKS in managed mode) into OUT_DIR/observability:
#      cargo run -p paved-observability --example render -- OUT_DIR/observability
#   2. kubernetes-validate --strict against the Kubernetes 1.29-1.32 schemas, every file
#   3. checkov's Kubernetes checks over each tree, with that tree's skip list below
#   (and, when kubectl is on PATH, `kubectl kustomize` must build every folder whole)
# Exits non-zero on any failure; prints objects checked and checks passed/failed/skipped.
#
# Environment:
#   PAVED_MANIFESTS_VENV  venv for the validators (default: <repo>/.venv-manifests).
#                         Kept apart from scripts/setup-venv.sh's venv so checkov's many
#                         dependencies never disturb moto's pins; made like that one:
#                         pip runs only when the pins recorded in the venv differ.
#   OUT_DIR               where to render (default: a fresh temporary directory)
#   PYTHON                interpreter used to create the venv (default: python3)
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
VENV="${PAVED_MANIFESTS_VENV:-$ROOT/.venv-manifests}"
PYTHON="${PYTHON:-python3}"
K8S_VERSIONS=(1.29.0 1.30.0 1.31.0 1.32.0)
PINS=(
  "kubernetes-validate==1.37.0"
  "checkov==3.3.30"
)

# checkov checks that do not fit this baseline. Every entry says why.
# (Checks the observability stack does not fit are in OBS_SKIP_CHECKS below.)
SKIP_CHECKS=(
  # "Image should use digest": the autoscaler image is pinned to an exact release tag
  # from a table in the code (autoscaler/release.rs) on registry.k8s.io, whose release
  # tags are immutable; digests would have to be kept per architecture by hand.
  CKV_K8S_43
  # "Image Pull Policy should be Always": with an exact release tag IfNotPresent pulls
  # the same bytes, and an autoscaler restart must not depend on the registry being
  # reachable (it is what adds nodes when the cluster is short of them).
  CKV_K8S_15
  # "Service Account Tokens are only mounted where necessary": the autoscaler is an
  # API client (it watches pods and nodes, evicts, writes its status ConfigMap); it
  # needs its token, and its permissions are held to what it uses (autoscaler/rbac.rs).
  CKV_K8S_38
)

# checkov checks that do not fit the observability stack as a whole. Every entry says
# why. Where one workload fails a check on purpose (node-exporter's host network,
# Alloy running as root, the API clients' tokens), the renderer annotates that object
# (`checkov.io/skipN: CHECK=reason`, see skip_checks in paved-observability's
# labels.rs), so the check still judges every other object.
OBS_SKIP_CHECKS=(
  # "Image should use digest": every image is pinned to an exact release tag in the
  # renderer (IMAGE constants), from registries whose release tags are not moved;
  # digests would have to be kept per architecture by hand.
  CKV_K8S_43
  # "Image Pull Policy should be Always": with an exact tag IfNotPresent pulls the
  # same bytes, and the stack that reports a registry outage must restart without it.
  CKV_K8S_15
  # "Pods lack an associated NetworkPolicy": the stack's peers are outside its
  # namespace and not in its spec (apps anywhere push OTLP to Alloy, the ingress
  # controller reaches Grafana, the API server calls the adapter, Prometheus scrapes
  # every namespace); a policy would be allow-all or cut them. The cluster's network
  # design owns that (the baseline's team namespaces carry their policies).
  CKV2_K8S_6
)

log() { printf '[check-manifests] %s\n' "$*" >&2; }
die() { printf '[check-manifests] ERROR: %s\n' "$*" >&2; exit 1; }

# --- 1. the venv ------------------------------------------------------------------
# shellcheck source=scripts/pinned-venv.sh
source "$ROOT/scripts/pinned-venv.sh"
pinned_venv "$VENV" "$PYTHON" "${PINS[@]}"

# On any exit: stop the background validator, remove the reports (and the rendering
# unless OUT_DIR asked to keep it).
kv_pid="" report="" scratch=""
cleanup() {
  [[ -z "$kv_pid" ]] || kill "$kv_pid" 2>/dev/null || true
  rm -rf "$report" "$scratch"
}
trap cleanup EXIT

# --- 2. render ----------------------------------------------------------------------
if [[ -n "${OUT_DIR:-}" ]]; then
  out="$OUT_DIR"
  rm -rf "$out"
  mkdir -p "$out"
else
  out="$(mktemp -d)"
  scratch="$out"
fi
log "rendering the example baselines into $out"
cargo run -q -p paved-manifests --example render -- "$out"
obs="$out/observability"
log "rendering the example observability stacks into $obs"
cargo run -q -p paved-observability --example render -- "$obs"

mapfile -t objects < <(find "$out" -name '*.yaml' ! -name kustomization.yaml | sort)
mapfile -t kustomizations < <(find "$out" -name kustomization.yaml | sort)
mapfile -t obs_objects < <(find "$obs" -name '*.yaml' ! -name kustomization.yaml | sort)
mapfile -t obs_kustomizations < <(find "$obs" -name kustomization.yaml | sort)
base_files=$((${#objects[@]} - ${#obs_objects[@]}))
base_kustomizations=$((${#kustomizations[@]} - ${#obs_kustomizations[@]}))
((base_files > 0)) || die "the baseline example rendered no object files"
((${#obs_objects[@]} > 0)) || die "the observability example rendered no object files"
# Every kustomization must list exactly the object files beside it.
for k in "${kustomizations[@]}"; do
  dir="$(dirname "$k")"
  listed="$(sed -n 's/^- //p' "$k" | sort)"
  present="$(cd "$dir" && find . -name '*.yaml' ! -name kustomization.yaml | sed 's|^\./||' | sort)"
  [[ "$listed" == "$present" ]] || die "$k does not list exactly the files in $dir"
done

# kustomize itself (built into kubectl) must build each baseline to all its objects.
kustomize_result="skipped (no kubectl on PATH)"
if command -v kubectl >/dev/null; then
  for k in "${kustomizations[@]}"; do
    dir="$(dirname "$k")"
    files="$(find "$dir" -name '*.yaml' ! -name kustomization.yaml | wc -l)"
    built="$(kubectl kustomize "$dir" | grep -c '^kind:')" || die "kubectl kustomize $dir failed"
    ((built == files)) || die "kubectl kustomize $dir built $built objects, expected $files"
  done
  kustomize_result="passed ($base_kustomizations baselines, ${#obs_kustomizations[@]} observability stacks, $(kubectl version --client 2>/dev/null | sed -n 's/^Kustomize Version: //p'))"
fi

# --- 3. kubernetes-validate (in the background, beside checkov: two cores) -------------
kv_args=(--strict --quiet)
for v in "${K8S_VERSIONS[@]}"; do kv_args+=(-k "$v"); done
log "kubernetes-validate --strict against ${K8S_VERSIONS[*]}: ${#objects[@]} files"
report="$(mktemp -d)"
"$VENV/bin/kubernetes-validate" "${kv_args[@]}" "${objects[@]}" >"$report/kv.out" 2>&1 &
kv_pid=$!

# --- 4. checkov ---------------------------------------------------------------------
# checkov_tree NAME DIR SKIPS [ARGS...]: checkov over DIR (ARGS added) skipping the
# comma-separated SKIPS; prints its report and sets ck_passed, ck_fail_count,
# ck_resources, ck_skipped (what the skip list hides, counted by running those checks
# on their own) and ck_annotated (checks objects' own annotations skip).
checkov_tree() {
  local name="$1" dir="$2" skips="$3" rep="$report/${1// /-}"
  shift 3
  mkdir -p "$rep"
  log "checkov --framework kubernetes over the $name (skipping $skips)"
  local failed=0
  "$VENV/bin/checkov" -d "$dir" "$@" --framework kubernetes --quiet --compact --skip-download \
    --skip-check "$skips" -o cli -o json --output-file-path "$rep" >/dev/null 2>"$rep/stderr" \
    || failed=1
  cat "$rep/results_cli.txt" 2>/dev/null || { cat "$rep/stderr" >&2; die "checkov wrote no report"; }
  # The skipped checks, run on their own, to count what the skip list hides.
  "$VENV/bin/checkov" -d "$dir" "$@" --framework kubernetes --quiet --skip-download \
    --check "$skips" -o json --output-file-path "$rep/skipped" >/dev/null 2>&1 || true
  read -r ck_passed ck_fail_count ck_resources ck_skipped ck_annotated < <("$VENV/bin/python" - "$rep" <<'PYEOF'
import json, sys, os
d = sys.argv[1]
def summary(path):
    if not os.path.exists(path):
        return {}
    data = json.load(open(path))
    data = data if isinstance(data, list) else [data]
    s = {}
    for part in data:
        for k, v in part.get("summary", {}).items():
            if isinstance(v, int):
                s[k] = s.get(k, 0) + v
    return s
main = summary(os.path.join(d, "results_json.json"))
hidden = summary(os.path.join(d, "skipped", "results_json.json"))
print(main.get("passed", 0), main.get("failed", 0), main.get("resource_count", 0),
      hidden.get("passed", 0) + hidden.get("failed", 0), main.get("skipped", 0))
PYEOF
  )
  ((failed == 0 && ck_fail_count == 0)) || ck_any_failed=1
}
ck_any_failed=0
skip="$(IFS=,; echo "${SKIP_CHECKS[*]}")"
checkov_tree baseline "$out" "$skip" --skip-path "$obs"
ck_line="checkov: ${ck_resources} resources, ${ck_passed} checks passed, ${ck_fail_count} failed, ${ck_skipped} skipped (${#SKIP_CHECKS[@]} check IDs: $skip)"
((ck_annotated == 0)) || ck_line+=", $ck_annotated by annotation"
obs_skip="$(IFS=,; echo "${OBS_SKIP_CHECKS[*]}")"
checkov_tree "observability stacks" "$obs" "$obs_skip"
obs_ck_line="checkov (observability): ${ck_resources} resources, ${ck_passed} checks passed, ${ck_fail_count} failed, ${ck_skipped} skipped (${#OBS_SKIP_CHECKS[@]} check IDs: $obs_skip) and ${ck_annotated} by the objects' own annotations"

kv_failed=0
wait "$kv_pid" || kv_failed=1
kv_pid=""
cat "$report/kv.out"

echo "objects checked: ${#objects[@]} files: $base_files in $base_kustomizations baselines, ${#obs_objects[@]} in ${#obs_kustomizations[@]} observability stacks"
echo "kubectl kustomize: $kustomize_result"
echo "kubernetes-validate (${K8S_VERSIONS[*]}, strict): $([[ $kv_failed == 0 ]] && echo passed || echo FAILED)"
echo "$ck_line"
echo "$obs_ck_line"
((kv_failed == 0)) || die "kubernetes-validate found invalid manifests"
((ck_any_failed == 0)) || die "checkov found failing checks"
log "all manifests passed"
