#!/usr/bin/env bash
# Prove scripts/release.sh's artefacts install with real Terraform 1.15.5.
#
# Runs release.sh with PAVED_PROVIDER (no cargo build) into a temporary OUT, then,
# each time with a fresh HOME, TF_CLI_CONFIG_FILE and working directory for a root
# module that requires pavedroad/paved = VERSION:
#   0) release.sh refuses a VERSION other than Cargo.toml's and a binary reporting
#      another version; the zip holds exactly terraform-provider-paved_vVERSION, 0755,
#      the binary's bytes; SHA256SUMS checks; a second run gives the same bytes
#   a) terraform init installs from the packed filesystem mirror (OUT/mirror) and the
#      lock file's hashes are VERSION.json's
#   b) terraform init installs from the network mirror over HTTPS on 127.0.0.1
#      (python3 http.server + a throwaway CA Terraform trusts through SSL_CERT_FILE);
#      without that CA it refuses the server
#   c) terraform providers lock -fs-mirror records VERSION.json's h1:, and terraform
#      init in a fresh .terraform verifies against that lock file
#   d) a tampered zip (one byte of the binary changed) is refused: by the network
#      mirror's VERSION.json hashes, and by (c)'s lock file; the same tampered zip
#      installs once the mirror lists its own zh:, so the refusal is the hash check
#   e) with GPG_KEY_ID (throwaway key, temporary GNUPGHOME) release.sh writes a binary
#      detached signature that gpg --verify accepts for SHA256SUMS (also with only
#      the exported public key) and rejects for a changed SHA256SUMS
# Prints PASS/FAIL per check; exits non-zero on any failure.
#
# Environment:
#   PAVED_PROVIDER  the provider binary to package (default: <repo>/target/debug/terraform-provider-paved)
#   PAVED_VENV      venv holding terraform-1.15 (default: <repo>/.venv)
#   KEEP_WORK=1     keep the temporary directory (printed) for inspection
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PROVIDER="${PAVED_PROVIDER:-$ROOT/target/debug/terraform-provider-paved}"
VENV="${PAVED_VENV:-$ROOT/.venv}"
TF="$VENV/bin/terraform-1.15" # never a terraform found on PATH
NAME=terraform-provider-paved
PLATFORM=linux_amd64
ADDR=registry.terraform.io/pavedroad/paved
START=$SECONDS

log() { printf '\n==> %s\n' "$*" >&2; }
die() { printf '[check-release] ERROR: %s\n' "$*" >&2; exit 1; }

[[ -x "$PROVIDER" ]] || die "provider binary $PROVIDER not found (set PAVED_PROVIDER)"
[[ -x "$TF" ]] || die "$TF not found (set PAVED_VENV; scripts/setup-venv.sh makes it)"
for tool in python3 openssl gpg sha256sum; do
  command -v "$tool" >/dev/null || die "'$tool' is needed on PATH"
done
TF_VERSION="$(TF_CLI_CONFIG_FILE=/dev/null CHECKPOINT_DISABLE=1 "$TF" version 2>/dev/null | sed -n 1p)"
[[ "$TF_VERSION" == "Terraform v1.15."* ]] || die "$TF is not Terraform 1.15"

VERSION="$(awk '
  /^\[/ { in_pkg = ($0 == "[package]") }
  in_pkg && /^version[[:space:]]*=/ { sub(/^version[[:space:]]*=[[:space:]]*"/, ""); sub(/".*/, ""); print; exit }
' "$ROOT/Cargo.toml")"
[[ -n "$VERSION" ]] || die "no [package] version in Cargo.toml"
ZIP="${NAME}_${VERSION}_${PLATFORM}.zip"
SUMS="${NAME}_${VERSION}_SHA256SUMS"
MEMBER="${NAME}_v${VERSION}"

WORK="$(mktemp -d "${TMPDIR:-/tmp}/paved-release-check.XXXXXX")"
SERVER_PID=""
cleanup() {
  if [[ -n "$SERVER_PID" ]]; then
    kill "$SERVER_PID" 2>/dev/null || true
    wait "$SERVER_PID" 2>/dev/null || true
  fi
  if [[ -d "$WORK/gnupg" ]]; then GNUPGHOME="$WORK/gnupg" gpgconf --kill gpg-agent 2>/dev/null || true; fi
  if [[ -d "$WORK/gnupg-verify" ]]; then GNUPGHOME="$WORK/gnupg-verify" gpgconf --kill gpg-agent 2>/dev/null || true; fi
  if [[ "${KEEP_WORK:-}" == 1 ]]; then
    printf '[check-release] kept %s\n' "$WORK" >&2
  else
    rm -rf "$WORK"
  fi
}
trap cleanup EXIT

PASSED=0
FAILED=0
RESULTS=()
# record ID WHAT: runs check_ID; PASS/FAIL with WHAT (what the check proves).
record() {
  local id="$1" what="$2" t0=$SECONDS
  log "check $id: $what"
  if "check_$id"; then
    PASSED=$((PASSED + 1))
    RESULTS+=("PASS $id ($((SECONDS - t0)) s): $what")
    printf 'PASS %s: %s\n' "$id" "$what"
  else
    FAILED=$((FAILED + 1))
    RESULTS+=("FAIL $id ($((SECONDS - t0)) s): $what")
    printf 'FAIL %s: %s\n' "$id" "$what"
  fi
}
# A failed step inside a check: say why, return 1 from the check.
no() {
  printf '    FAIL because: %s\n' "$*" >&2
  return 1
}
say() { printf '    %s\n' "$*" >&2; }

# tf_error LOG: Terraform's error (the Error: line and the lines after it), on one line.
tf_error() { sed -n '/Error:/,$p' "$1" | tr -s ' \n' ' ' | cut -c1-400; }
sha() { sha256sum "$1" | cut -d' ' -f1; }

# json_hashes FILE: the hashes listed for $PLATFORM in a network-mirror VERSION.json.
json_hashes() {
  python3 -c 'import json,sys; print("\n".join(json.load(open(sys.argv[1]))["archives"][sys.argv[2]]["hashes"]))' "$1" "$PLATFORM"
}
# lock_hashes DIR: the hashes recorded for pavedroad/paved in DIR/.terraform.lock.hcl.
lock_hashes() {
  [[ -f "$1/.terraform.lock.hcl" ]] || return 0
  grep -oE '"(h1|zh):[^"]+"' "$1/.terraform.lock.hcl" | tr -d '"' | LC_ALL=C sort
}

# new_ws NAME: a fresh workspace $WORK/NAME with home/, an empty CLI config and mod/
# holding the root module. Prints its path.
new_ws() {
  local ws="$WORK/ws-$1"
  mkdir -p "$ws/home" "$ws/mod"
  : >"$ws/cli.tfrc"
  cat >"$ws/mod/main.tf" <<HCL
terraform {
  required_providers {
    paved = {
      source  = "pavedroad/paved"
      version = "= $VERSION"
    }
  }
}

provider "paved" {}
HCL
  printf '%s\n' "$ws"
}
# tf WS LOGNAME ARGS...: Terraform in WS/mod with only WS's HOME and CLI config (and
# SSL_CERT_FILE=$TF_CA when TF_CA is set); output in WS/LOGNAME.log.
tf() {
  local ws="$1" logname="$2" rc=0
  shift 2
  env -i PATH="$PATH" HOME="$ws/home" TF_CLI_CONFIG_FILE="$ws/cli.tfrc" \
    CHECKPOINT_DISABLE=1 TF_IN_AUTOMATION=1 ${TF_CA:+SSL_CERT_FILE="$TF_CA"} \
    "$TF" -chdir="$ws/mod" "$@" >"$ws/$logname.log" 2>&1 || rc=$?
  return "$rc"
}
show_log() { sed 's/^/      | /' "$1" | grep -v '^      | *$' | tail -n "${2:-25}" >&2; }
fs_mirror_config() {
  cat >"$1/cli.tfrc" <<HCL
provider_installation {
  filesystem_mirror {
    path    = "$2"
    include = ["$ADDR"]
  }
}
HCL
}
net_mirror_config() {
  cat >"$1/cli.tfrc" <<HCL
provider_installation {
  network_mirror {
    url     = "$2"
    include = ["$ADDR"]
  }
}
HCL
}
# installed_ok WS: the provider unpacked under WS/mod/.terraform is the binary we packaged.
installed_ok() {
  local f="$1/mod/.terraform/providers/$ADDR/$VERSION/$PLATFORM/$MEMBER"
  [[ -x "$f" ]] || no "$f missing or not executable" || return 1
  [[ "$(sha "$f")" == "$PROVIDER_SHA" ]] || no "installed $f differs from $PROVIDER" || return 1
  say "installed $ADDR $VERSION: .terraform/providers/.../$MEMBER, the packaged binary's bytes"
}

PROVIDER_SHA="$(sha "$PROVIDER")"
OUT="$WORK/out"
OUT_GPG="$WORK/out-gpg"
NM="$OUT/network-mirror/$ADDR"
VERSION_JSON="$NM/$VERSION.json"

# --- the release itself -------------------------------------------------------------
log "release.sh $VERSION with PAVED_PROVIDER=$PROVIDER into $OUT"
if ! PAVED_PROVIDER="$PROVIDER" OUT="$OUT" "$ROOT/scripts/release.sh" "$VERSION" >"$WORK/release.log" 2>&1; then
  cat "$WORK/release.log" >&2
  die "release.sh failed"
fi
cat "$WORK/release.log" >&2
H1="$(json_hashes "$VERSION_JSON" | grep '^h1:' || true)"
ZH="$(json_hashes "$VERSION_JSON" | grep '^zh:' || true)"

# Throwaway signing key, made before the second release run that signs.
export_key() {
  mkdir -m 700 -p "$WORK/gnupg"
  GNUPGHOME="$WORK/gnupg" gpg --batch --quiet --pinentry-mode loopback --passphrase '' \
    --quick-gen-key "paved release check <release-check@example.invalid>" ed25519 sign 1d \
    >"$WORK/gpg-gen.log" 2>&1 || { cat "$WORK/gpg-gen.log" >&2; return 1; }
  GPG_FPR="$(GNUPGHOME="$WORK/gnupg" gpg --batch --with-colons --list-secret-keys 2>/dev/null |
    awk -F: '$1 == "fpr" { print $10; exit }')"
  [[ -n "$GPG_FPR" ]]
}
export_key || die "could not make a throwaway GPG key"
log "release.sh $VERSION again, signed with throwaway key $GPG_FPR, into $OUT_GPG"
if ! GNUPGHOME="$WORK/gnupg" GPG_KEY_ID="$GPG_FPR" PAVED_PROVIDER="$PROVIDER" OUT="$OUT_GPG" \
  "$ROOT/scripts/release.sh" "$VERSION" >"$WORK/release-gpg.log" 2>&1; then
  cat "$WORK/release-gpg.log" >&2
  die "release.sh with GPG_KEY_ID failed"
fi

# --- 0) the artefacts as files --------------------------------------------------------
check_0() {
  local fake="$WORK/fake-provider" out
  # VERSION gate
  if out="$(PAVED_PROVIDER="$PROVIDER" OUT="$WORK/refused" "$ROOT/scripts/release.sh" 9.9.9 2>&1)"; then
    no "release.sh 9.9.9 succeeded although Cargo.toml says $VERSION"
    return 1
  fi
  grep -q "Cargo.toml's version" <<<"$out" || no "refusal does not name Cargo.toml's version: $out" || return 1
  say "release.sh 9.9.9 refused: ${out##*ERROR: }"
  # --version gate
  printf '#!/bin/sh\necho "%s 9.9.9"\n' "$NAME" >"$fake"
  chmod +x "$fake"
  if out="$(PAVED_PROVIDER="$fake" OUT="$WORK/refused" "$ROOT/scripts/release.sh" "$VERSION" 2>&1)"; then
    no "release.sh packaged a binary whose --version says 9.9.9"
    return 1
  fi
  say "binary reporting 9.9.9 refused: ${out##*ERROR: }"
  # the zip
  python3 - "$OUT/$ZIP" "$MEMBER" "$PROVIDER_SHA" <<'PY' || return 1
import hashlib, sys, zipfile
path, member, want = sys.argv[1:]
z = zipfile.ZipFile(path)
infos = z.infolist()
names = [i.filename for i in infos]
if names != [member]:
    sys.exit(f"    FAIL because: zip members {names}, expected [{member!r}]")
i = infos[0]
mode = (i.external_attr >> 16) & 0o7777
if i.create_system != 3 or mode != 0o755:
    sys.exit(f"    FAIL because: {member} mode {oct(mode)} (system {i.create_system}), expected 0755 (unix)")
h = hashlib.sha256()
with z.open(i) as f:
    for b in iter(lambda: f.read(1 << 20), b""):
        h.update(b)
if h.hexdigest() != want:
    sys.exit("    FAIL because: zip member is not the packaged binary")
print(f"    zip: exactly {member}, mode 0755, the binary's bytes, dated {i.date_time}", file=sys.stderr)
PY
  (cd "$OUT" && sha256sum --quiet -c "$SUMS") || no "sha256sum -c $SUMS fails" || return 1
  [[ "$(wc -l <"$OUT/$SUMS")" -eq 2 ]] || no "$SUMS should list the zip and the manifest" || return 1
  say "$SUMS checks (sha256sum -c) and lists: $(awk '{printf "%s ", $2}' "$OUT/$SUMS")"
  python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); sys.exit(d != {"version": 1, "metadata": {"protocol_versions": ["6.0"]}})' \
    "$OUT/${NAME}_${VERSION}_manifest.json" || no "manifest is not {version 1, protocol_versions [6.0]}" || return 1
  [[ ! -e "$OUT/$SUMS.sig" ]] || no "a .sig was written without GPG_KEY_ID" || return 1
  cmp -s "$OUT/$ZIP" "$OUT_GPG/$ZIP" || no "two runs gave different zips (not deterministic)" || return 1
  cmp -s "$OUT/$SUMS" "$OUT_GPG/$SUMS" || no "two runs gave different SHA256SUMS" || return 1
  cmp -s "$VERSION_JSON" "$OUT_GPG/network-mirror/$ADDR/$VERSION.json" || no "two runs gave different VERSION.json" || return 1
  say "two runs: identical zip, SHA256SUMS and VERSION.json (deterministic)"
  [[ "$ZH" == "zh:$(sha "$OUT/$ZIP")" ]] || no "VERSION.json zh: '$ZH' is not the zip's sha256" || return 1
  [[ "$H1" == h1:* ]] || no "VERSION.json has no h1:" || return 1
  for f in "$OUT/mirror/$ADDR/$ZIP" "$NM/$ZIP"; do
    cmp -s "$OUT/$ZIP" "$f" || no "$f is not the release zip" || return 1
  done
  say "mirror trees hold the release zip; VERSION.json lists $H1 and $ZH"
}

# --- a) filesystem mirror ---------------------------------------------------------------
check_a() {
  local ws
  ws="$(new_ws a)"
  fs_mirror_config "$ws" "$OUT/mirror"
  tf "$ws" init init -input=false -no-color || { show_log "$ws/init.log"; no "terraform init from $OUT/mirror failed"; return 1; }
  grep -q "Installed pavedroad/paved v$VERSION" "$ws/init.log" || { show_log "$ws/init.log"; no "init did not install pavedroad/paved v$VERSION"; return 1; }
  installed_ok "$ws" || return 1
  lock_matches "$ws" || return 1
}
# lock_matches WS: WS's lock file records VERSION.json's h1: and nothing VERSION.json lacks.
lock_matches() {
  local got h
  got="$(lock_hashes "$1/mod")"
  [[ -n "$got" ]] || no "no hashes in .terraform.lock.hcl" || return 1
  grep -qxF "$H1" <<<"$got" || no "lock file lacks VERSION.json's $H1 (has: $got)" || return 1
  while IFS= read -r h; do
    [[ "$h" == "$H1" || "$h" == "$ZH" ]] || no "lock file records $h, not in VERSION.json" || return 1
  done <<<"$got"
  if grep -qxF "$ZH" <<<"$got"; then
    say "lock file records VERSION.json's $H1 and $ZH"
  else
    # Terraform records zh: only for hashes a registry signed (SHA256SUMS + GPG);
    # mirrors' packages get the h1: it computes itself.
    say "lock file records $H1 (= VERSION.json's h1:, computed by Terraform; no zh: for mirrors)"
  fi
}

# --- b) network mirror over HTTPS -------------------------------------------------------
make_tls() {
  local d="$WORK/tls"
  mkdir -p "$d"
  (
    cd "$d"
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
      -keyout ca.key -out ca.pem -days 1 -subj "/CN=paved release check CA" \
      -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign"
    openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
      -keyout server.key -out server.csr -subj "/CN=127.0.0.1"
    printf 'subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\n' >ext.cnf
    openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial \
      -out server.pem -days 1 -extfile ext.cnf
  ) >"$d/openssl.log" 2>&1 || { cat "$d/openssl.log" >&2; return 1; }
}
# start_server ROOT: HTTPS on 127.0.0.1 and a free port serving ROOT; sets BASE_URL.
start_server() {
  local root="$1" portfile="$WORK/server.port" deadline
  rm -f "$portfile"
  python3 - "$root" "$WORK/tls/server.pem" "$WORK/tls/server.key" "$portfile" \
    >"$WORK/server.log" 2>&1 <<'PY' &
import functools, http.server, os, ssl, sys
root, cert, key, portfile = sys.argv[1:]
handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=root)
httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
ctx.load_cert_chain(cert, key)
httpd.socket = ctx.wrap_socket(httpd.socket, server_side=True)
with open(portfile + ".tmp", "w") as f:
    f.write(str(httpd.server_address[1]))
os.replace(portfile + ".tmp", portfile)
httpd.serve_forever()
PY
  SERVER_PID=$!
  deadline=$((SECONDS + 20))
  until [[ -s "$portfile" ]]; do
    kill -0 "$SERVER_PID" 2>/dev/null || { cat "$WORK/server.log" >&2; return 1; }
    ((SECONDS < deadline)) || return 1
    sleep 0.1
  done
  BASE_URL="https://127.0.0.1:$(cat "$portfile")"
}

check_b() {
  local ws
  ws="$(new_ws b)"
  net_mirror_config "$ws" "$BASE_URL/good/"
  # Without our CA Terraform must refuse the server: the mirror really is HTTPS.
  if TF_CA="" tf "$ws" init-untrusted init -input=false -no-color; then
    no "init succeeded although nothing trusts the server's certificate"
    return 1
  fi
  grep -qiE 'x509|certificate' "$ws/init-untrusted.log" || { show_log "$ws/init-untrusted.log"; no "untrusted init failed, but not on the certificate"; return 1; }
  say "without SSL_CERT_FILE: refused ($(grep -oiE 'x509: [^"]*' "$ws/init-untrusted.log" | sed -n 1p))"
  rm -rf "$ws/mod/.terraform" "$ws/mod/.terraform.lock.hcl"
  TF_CA="$WORK/tls/ca.pem" tf "$ws" init init -input=false -no-color || { show_log "$ws/init.log"; no "terraform init from $BASE_URL/good/ failed"; return 1; }
  grep -q "Installed pavedroad/paved v$VERSION" "$ws/init.log" || { show_log "$ws/init.log"; no "init did not install pavedroad/paved v$VERSION"; return 1; }
  grep -q "GET /good/$ADDR/$ZIP" "$WORK/server.log" || no "the HTTPS server never served the zip" || return 1
  say "served over HTTPS: $(grep -c "GET /good/$ADDR/" "$WORK/server.log") GETs (index.json, $VERSION.json, zip)"
  installed_ok "$ws" || return 1
  lock_matches "$ws" || return 1
}

# --- c) providers lock, then init against that lock --------------------------------------
check_c() {
  local ws before
  ws="$(new_ws c)"
  tf "$ws" lock providers lock -no-color "-fs-mirror=$OUT/mirror" "-platform=$PLATFORM" ||
    { show_log "$ws/lock.log"; no "terraform providers lock -fs-mirror failed"; return 1; }
  lock_matches "$ws" || return 1
  before="$(lock_hashes "$ws/mod")"
  cp "$ws/mod/.terraform.lock.hcl" "$WORK/lock-from-c.hcl"
  [[ ! -e "$ws/mod/.terraform" ]] || no "providers lock left a .terraform directory" || return 1
  fs_mirror_config "$ws" "$OUT/mirror"
  tf "$ws" init init -input=false -no-color || { show_log "$ws/init.log"; no "init against the lock from providers lock failed"; return 1; }
  installed_ok "$ws" || return 1
  [[ "$(lock_hashes "$ws/mod")" == "$before" ]] || no "init changed the locked hashes" || return 1
  say "init in a fresh .terraform verified the package against the locked $H1"
}

# --- d) tampered package ------------------------------------------------------------------
make_tampered() {
  local d="$WORK/srv/tampered/$ADDR"
  mkdir -p "$d"
  # Same member name and mode; one byte of the binary flipped (stored, not deflated:
  # Terraform takes either, and this saves a compression pass).
  python3 - "$OUT/$ZIP" "$d/$ZIP" <<'PY'
import shutil, sys, zipfile
src, dest = sys.argv[1:]
with zipfile.ZipFile(src) as zin:
    (info,) = zin.infolist()
    data = bytearray(zin.read(info))
data[len(data) // 2] ^= 0x01
out = zipfile.ZipInfo(info.filename, date_time=info.date_time)
out.create_system, out.external_attr = info.create_system, info.external_attr
out.compress_type = zipfile.ZIP_STORED
with zipfile.ZipFile(dest, "w") as zout:
    zout.writestr(out, bytes(data))
PY
  # The OLD metadata: index.json and VERSION.json of the real release.
  cp "$NM/index.json" "$NM/$VERSION.json" "$d/"
  # A control mirror: the same tampered zip listed with its own zh: only.
  mkdir -p "$WORK/srv/control/$ADDR"
  ln -s "$d/$ZIP" "$WORK/srv/control/$ADDR/$ZIP"
  cp "$NM/index.json" "$WORK/srv/control/$ADDR/"
  python3 - "$VERSION_JSON" "$WORK/srv/control/$ADDR/$VERSION.json" "$PLATFORM" "zh:$(sha "$d/$ZIP")" <<'PY'
import json, sys
src, dest, platform, zh = sys.argv[1:]
doc = json.load(open(src))
doc["archives"][platform]["hashes"] = [zh]
json.dump(doc, open(dest, "w"), indent=2)
PY
  # A filesystem mirror holding only the tampered zip (for the lock file from c).
  mkdir -p "$WORK/tampered-fs/$ADDR"
  ln -s "$d/$ZIP" "$WORK/tampered-fs/$ADDR/$ZIP"
  cmp -s "$d/$ZIP" "$OUT/$ZIP" && return 1 # must differ
  return 0
}
check_d() {
  local ws
  make_tampered || no "could not make the tampered zip" || return 1
  # d1: network mirror with the tampered zip and the old VERSION.json hashes.
  ws="$(new_ws d-mirror)"
  net_mirror_config "$ws" "$BASE_URL/tampered/"
  if TF_CA="$WORK/tls/ca.pem" tf "$ws" init init -input=false -no-color; then
    no "init installed a tampered zip whose hashes differ from VERSION.json's"
    return 1
  fi
  grep -q "GET /tampered/$ADDR/$ZIP" "$WORK/server.log" || no "Terraform never downloaded the tampered zip" || return 1
  tr -s ' \n' ' ' <"$ws/init.log" | grep -qE "doesn't match (the )?any of the expected checksums" ||
    { show_log "$ws/init.log"; no "init failed, but not on a checksum mismatch"; return 1; }
  [[ ! -e "$ws/mod/.terraform/providers/$ADDR/$VERSION/$PLATFORM/$MEMBER" ]] || no "tampered binary was unpacked" || return 1
  say "mirror's hashes: refused: $(tf_error "$ws/init.log")"
  # control: the same zip, listed with its own zh:, installs: the zip is valid and
  # only its hash made the difference.
  ws="$(new_ws d-control)"
  net_mirror_config "$ws" "$BASE_URL/control/"
  TF_CA="$WORK/tls/ca.pem" tf "$ws" init init -input=false -no-color ||
    { show_log "$ws/init.log"; no "control: the tampered zip with its own zh: did not install, so the refusal may not be the hash check"; return 1; }
  grep -q "Installed pavedroad/paved v$VERSION" "$ws/init.log" || no "control did not install" || return 1
  say "control: the same tampered zip listed with its own zh: installs (so the refusal above is the hash check, and Terraform checks zh:)"
  # d2: the lock file from c kept, a filesystem mirror holding the tampered zip.
  ws="$(new_ws d-lock)"
  cp "$WORK/lock-from-c.hcl" "$ws/mod/.terraform.lock.hcl" || no "no lock file from check c" || return 1
  fs_mirror_config "$ws" "$WORK/tampered-fs"
  if tf "$ws" init init -input=false -no-color; then
    no "init installed a tampered zip against the lock file from providers lock"
    return 1
  fi
  tr -s ' \n' ' ' <"$ws/init.log" | grep -q "doesn't match any of the checksums previously recorded in the dependency lock file" ||
    { show_log "$ws/init.log"; no "init failed, but not on a mismatch with the lock file's checksums"; return 1; }
  say "lock file: refused: $(tf_error "$ws/init.log")"
}

# --- e) GPG signature ---------------------------------------------------------------------
check_e() {
  local sig="$OUT_GPG/$SUMS.sig" st bad="$WORK/bad-sums"
  [[ -s "$sig" ]] || no "release.sh with GPG_KEY_ID wrote no $SUMS.sig" || return 1
  # Binary OpenPGP: the first byte is a packet tag (high bit set); armour starts "-----".
  python3 -c 'import sys; sys.exit(not open(sys.argv[1], "rb").read(1)[0] & 0x80)' "$sig" ||
    no "$SUMS.sig is not a binary OpenPGP signature (ASCII-armoured?)" || return 1
  st="$(GNUPGHOME="$WORK/gnupg" gpg --batch --status-fd 1 --verify "$sig" "$OUT_GPG/$SUMS" 2>"$WORK/gpg-verify.log")" ||
    { cat "$WORK/gpg-verify.log" >&2; no "gpg --verify $SUMS.sig $SUMS failed"; return 1; }
  grep -q "^\[GNUPG:\] VALIDSIG $GPG_FPR " <<<"$st" || no "no VALIDSIG by $GPG_FPR" || return 1
  say "gpg --verify: good signature by $GPG_FPR"
  # As a user would: only the exported public key in an empty keyring.
  mkdir -m 700 -p "$WORK/gnupg-verify"
  GNUPGHOME="$WORK/gnupg" gpg --batch --armor --export "$GPG_FPR" >"$WORK/release-key.asc"
  GNUPGHOME="$WORK/gnupg-verify" gpg --batch --quiet --import "$WORK/release-key.asc" 2>/dev/null
  GNUPGHOME="$WORK/gnupg-verify" gpg --batch --status-fd 1 --verify "$sig" "$OUT_GPG/$SUMS" 2>/dev/null |
    grep -q "^\[GNUPG:\] VALIDSIG $GPG_FPR " || no "verification with only the public key failed" || return 1
  say "also good with only the exported public key imported"
  # A changed SHA256SUMS (one hex digit of the zip's hash) must fail.
  python3 -c 'import sys; t = open(sys.argv[1]).read(); open(sys.argv[2], "w").write(("1" if t[0] == "0" else "0") + t[1:])' \
    "$OUT_GPG/$SUMS" "$bad"
  cmp -s "$bad" "$OUT_GPG/$SUMS" && { no "could not change SHA256SUMS"; return 1; }
  if GNUPGHOME="$WORK/gnupg" gpg --batch --verify "$sig" "$bad" >"$WORK/gpg-bad.log" 2>&1; then
    no "gpg --verify accepted a changed SHA256SUMS"
    return 1
  fi
  grep -q 'BAD signature' "$WORK/gpg-bad.log" || { cat "$WORK/gpg-bad.log" >&2; no "changed SHA256SUMS failed, but not as a BAD signature"; return 1; }
  say "changed SHA256SUMS: $(grep -o 'BAD signature.*' "$WORK/gpg-bad.log")"
}

PROVIDER_SIZE="$(stat -c %s "$PROVIDER")"
log "provider $PROVIDER ($PROVIDER_SIZE bytes), $TF_VERSION, paved $VERSION"

# HTTPS server for b and d: /good is the release's network mirror, /tampered and
# /control are made by check d.
make_tls || die "openssl could not make the throwaway CA and server certificate"
mkdir -p "$WORK/srv"
ln -s "$OUT/network-mirror" "$WORK/srv/good"
start_server "$WORK/srv" || die "could not start the HTTPS mirror server"
log "HTTPS mirror at $BASE_URL (CA $WORK/tls/ca.pem)"

record 0 "release.sh gates VERSION and --version; zip = one 0755 $MEMBER; SHA256SUMS checks; deterministic"
record a "terraform init installs from the packed filesystem mirror; lock hashes are VERSION.json's"
record b "terraform init installs from the HTTPS network mirror (trusted via SSL_CERT_FILE only); lock hashes are VERSION.json's"
record c "terraform providers lock -fs-mirror records VERSION.json's h1:; init in a fresh .terraform verifies it"
record d "a zip with one changed byte is refused on its hash (mirror's VERSION.json and lock file)"
record e "SHA256SUMS.sig (binary, detached) verifies with gpg; a changed SHA256SUMS does not"

printf '\n==> artefacts (package of %s, %s bytes)\n' "$PROVIDER" "$PROVIDER_SIZE"
(cd "$OUT_GPG" && find . -type f | LC_ALL=C sort | sed 's|^\./||' | while IFS= read -r f; do
  printf '%12d  %s\n' "$(stat -c %s "$f")" "$f"
done)
printf '\n==> results (%d s)\n' "$((SECONDS - START))"
printf '%s\n' "${RESULTS[@]}"
if ((FAILED > 0)); then
  printf 'check-release: %d passed, %d FAILED\n' "$PASSED" "$FAILED"
  exit 1
fi
printf 'check-release: all %d checks passed\n' "$PASSED"
