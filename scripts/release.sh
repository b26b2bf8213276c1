#!/usr/bin/env bash
# Package a paved release: scripts/release.sh VERSION
#
# VERSION must equal Cargo.toml's package version. Builds the optimised provider
# (cargo build --release --bin terraform-provider-paved), checks that
# `<binary> --version` reports VERSION, and lays out in OUT:
#   terraform-provider-paved_VERSION_linux_amd64.zip   one file, terraform-provider-paved_vVERSION
#                                                      (0755, fixed dates: same bytes every run)
#   terraform-provider-paved_VERSION_manifest.json     {"version": 1, "metadata": {"protocol_versions": ["6.0"]}}
#   terraform-provider-paved_VERSION_SHA256SUMS        sha256 of the zip and the manifest
#   terraform-provider-paved_VERSION_SHA256SUMS.sig    detached binary GPG signature (GPG_KEY_ID only)
#   mirror/registry.terraform.io/pavedroad/paved/<zip>                  filesystem mirror (packed)
#   network-mirror/registry.terraform.io/pavedroad/paved/index.json, VERSION.json, <zip>
#                                                      network mirror (h1: and zh: hashes)
# The layout is done by scripts/release_tree.py.
#
# Environment:
#   OUT             output directory (default: <repo>/dist/VERSION)
#   PAVED_PROVIDER  package this binary instead of building one (tests use the debug build)
#   GPG_KEY_ID      sign SHA256SUMS with this key (GNUPGHOME is honoured by gpg)
#   CARGO_TARGET_DIR  where cargo puts the build (default: <repo>/target)
#   PYTHON          interpreter for release_tree.py (default: python3)
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
NAME=terraform-provider-paved
PLATFORM=linux_amd64
PYTHON="${PYTHON:-python3}"

log() { printf '[release] %s\n' "$*" >&2; }
die() { printf '[release] ERROR: %s\n' "$*" >&2; exit 1; }

[[ $# -eq 1 && -n "$1" ]] || die "usage: scripts/release.sh VERSION (VERSION must equal Cargo.toml's version)"
VERSION="$1"

# The [package] version of Cargo.toml (the first `version =` in that table).
CARGO_VERSION="$(awk '
  /^\[/ { in_pkg = ($0 == "[package]") }
  in_pkg && /^version[[:space:]]*=/ { sub(/^version[[:space:]]*=[[:space:]]*"/, ""); sub(/".*/, ""); print; exit }
' "$ROOT/Cargo.toml")"
[[ -n "$CARGO_VERSION" ]] || die "no [package] version found in $ROOT/Cargo.toml"
if [[ "$VERSION" != "$CARGO_VERSION" ]]; then
  die "VERSION '$VERSION' is not Cargo.toml's version '$CARGO_VERSION': set version = \"$VERSION\" in Cargo.toml (or release $CARGO_VERSION)"
fi

OUT="${OUT:-$ROOT/dist/$VERSION}"

if [[ -n "${PAVED_PROVIDER:-}" ]]; then
  BIN="$PAVED_PROVIDER"
  log "packaging $BIN (PAVED_PROVIDER set: no build)"
else
  log "building the optimised provider (cargo build --release)"
  cargo build --release --manifest-path "$ROOT/Cargo.toml" --bin "$NAME"
  BIN="${CARGO_TARGET_DIR:-$ROOT/target}/release/$NAME"
fi
[[ -f "$BIN" && -x "$BIN" ]] || die "provider binary '$BIN' not found or not executable"

reported="$("$BIN" --version 2>/dev/null)" || die "'$BIN --version' failed"
if [[ "$reported" != "$NAME $VERSION" ]]; then
  die "'$BIN --version' reports '$reported', expected '$NAME $VERSION'"
fi

# Start from an empty slate for our own artefacts only (OUT may be shared).
ZIP="${NAME}_${VERSION}_${PLATFORM}.zip"
MANIFEST="${NAME}_${VERSION}_manifest.json"
SUMS="${NAME}_${VERSION}_SHA256SUMS"
mkdir -p "$OUT"
OUT="$(cd "$OUT" && pwd)"
rm -f "$OUT/$ZIP" "$OUT/$MANIFEST" "$OUT/$SUMS" "$OUT/$SUMS.sig"
rm -rf "$OUT/mirror" "$OUT/network-mirror"

log "laying out the release in $OUT"
"$PYTHON" "$ROOT/scripts/release_tree.py" package "$BIN" "$VERSION" "$OUT" "$PLATFORM"

if [[ -n "${GPG_KEY_ID:-}" ]]; then
  log "signing $SUMS with GPG key $GPG_KEY_ID"
  gpg --batch --yes --local-user "$GPG_KEY_ID" --detach-sign \
    --output "$OUT/$SUMS.sig" "$OUT/$SUMS"
else
  log "GPG_KEY_ID not set: no $SUMS.sig"
fi

log "artefacts (bytes, path under $OUT):"
(cd "$OUT" && find . -type f | LC_ALL=C sort | sed 's|^\./||' | while IFS= read -r f; do
  printf '%12d  %s\n' "$(stat -c %s "$f")" "$f"
done)
