# pinned_venv DIR PYTHON PIN...: makes the venv DIR with PYTHON when it is missing,
# and pip-installs the PINs when they differ from the ones the venv last installed
# (recorded in DIR/.paved-pins), so a warm run makes no pip call. Source it; the
# caller defines log and die and sets -euo pipefail.
# Used by scripts/check-manifests.sh and scripts/check-recipes.sh.
# shellcheck shell=bash

pinned_venv() {
  local dir="$1" python="$2"
  shift 2
  local marker="$dir/.paved-pins" want have=""
  if [[ ! -x "$dir/bin/python" ]]; then
    command -v "$python" >/dev/null || die "no '$python' on PATH (set PYTHON=/path/to/python3)"
    log "creating venv at $dir"
    "$python" -m venv "$dir"
  fi
  want="$(printf '%s\n' "$@")"
  [[ -f "$marker" ]] && have="$(cat "$marker")"
  if [[ "$want" != "$have" ]]; then
    log "installing: $*"
    "$dir/bin/python" -m pip install --disable-pip-version-check --no-input -q "$@"
    printf '%s\n' "$want" >"$marker"
  fi
}
