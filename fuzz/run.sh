#!/usr/bin/env bash
# Bounded, seeded fuzz run of paved-value's msgpack decoder, usable in CI
# on the stable toolchain (cargo-fuzz's nightly-only flags are enabled
# with RUSTC_BOOTSTRAP=1).
#
#   FUZZ_SECONDS  how long to fuzz (default 60)
#   FUZZ_SEED     libFuzzer's random seed (default 1)
#
# The working corpus is a temporary copy of corpus/seed/, so the seeds in
# git are never changed. A crash leaves its input in
# fuzz/artifacts/msgpack_decode/ and makes this script fail.
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
seconds="${FUZZ_SECONDS:-60}"
seed="${FUZZ_SEED:-1}"

if ! cargo fuzz --version >/dev/null 2>&1; then
    echo "run.sh: installing cargo-fuzz" >&2
    cargo install cargo-fuzz --locked
fi

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
cp "$here"/corpus/seed/* "$work"/

cd "$here/.."
RUSTC_BOOTSTRAP=1 cargo fuzz run --fuzz-dir "$here" --debug-assertions msgpack_decode "$work" -- \
    -seed="$seed" -max_total_time="$seconds" -print_final_stats=1
