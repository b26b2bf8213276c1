#!/usr/bin/env python3
"""Lay out paved's release artefacts (called by scripts/release.sh; usable alone).

    release_tree.py package BINARY VERSION OUT [PLATFORM]
        OUT/terraform-provider-paved_VERSION_PLATFORM.zip   (one file, 0755, fixed dates)
        OUT/terraform-provider-paved_VERSION_manifest.json
        OUT/terraform-provider-paved_VERSION_SHA256SUMS     (zip and manifest)
        OUT/mirror/registry.terraform.io/pavedroad/paved/<zip>            (packed layout)
        OUT/network-mirror/registry.terraform.io/pavedroad/paved/{index.json,VERSION.json,<zip>}
    release_tree.py hashes ZIP
        prints the h1: and zh: hashes Terraform records for ZIP, one a line.

h1: is Terraform's dirhash "Hash1" of the zip's contents: sha256 over the sorted
lines "<hex sha256 of file>  <name>\\n", base64 (standard, padded), prefixed "h1:".
zh: is the hex sha256 of the zip file itself.
"""
import base64
import hashlib
import json
import os
import shutil
import sys
import zipfile

NAME = "terraform-provider-paved"
HOST_PATH = ("registry.terraform.io", "pavedroad", "paved")
PROTOCOL_VERSIONS = ["6.0"]
# Fixed member date: the zip's bytes depend only on the binary (zip cannot store
# dates before 1980).
FIXED_DATE = (1980, 1, 1, 0, 0, 0)
CHUNK = 1 << 20


def sha256_file(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(CHUNK), b""):
            h.update(block)
    return h.hexdigest()


def hash1_zip(path):
    """Terraform's h1: (golang.org/x/mod/sumdb/dirhash.HashZip with Hash1)."""
    lines = []
    with zipfile.ZipFile(path) as z:
        for info in z.infolist():
            if info.is_dir():
                continue
            if "\n" in info.filename:
                raise SystemExit(f"{path}: member name with a newline: {info.filename!r}")
            h = hashlib.sha256()
            with z.open(info) as f:
                for block in iter(lambda: f.read(CHUNK), b""):
                    h.update(block)
            lines.append(f"{h.hexdigest()}  {info.filename}\n")
    summary = hashlib.sha256("".join(sorted(lines)).encode()).digest()
    return "h1:" + base64.b64encode(summary).decode()


def zip_hashes(path):
    return [hash1_zip(path), "zh:" + sha256_file(path)]


def write_zip(binary, member, dest):
    info = zipfile.ZipInfo(member, date_time=FIXED_DATE)
    info.create_system = 3  # Unix, so external_attr carries the mode
    info.external_attr = (0o100755 & 0xFFFF) << 16  # regular file, rwxr-xr-x
    info.compress_type = zipfile.ZIP_DEFLATED
    # Known size up front: zipfile then decides zip64 as write() would, and with a
    # seekable file writes sizes into the local header (no data descriptor).
    info.file_size = os.path.getsize(binary)
    tmp = dest + ".tmp"
    with zipfile.ZipFile(tmp, "w") as z, open(binary, "rb") as src:
        with z.open(info, "w") as out:
            shutil.copyfileobj(src, out, CHUNK)
    os.replace(tmp, dest)


def write_text(path, text):
    with open(path, "w", encoding="utf-8", newline="\n") as f:
        f.write(text)


def package(binary, version, out, platform="linux_amd64"):
    os.makedirs(out, exist_ok=True)
    zip_name = f"{NAME}_{version}_{platform}.zip"
    manifest_name = f"{NAME}_{version}_manifest.json"
    sums_name = f"{NAME}_{version}_SHA256SUMS"
    zip_path = os.path.join(out, zip_name)

    write_zip(binary, f"{NAME}_v{version}", zip_path)
    manifest = {"version": 1, "metadata": {"protocol_versions": PROTOCOL_VERSIONS}}
    write_text(os.path.join(out, manifest_name), json.dumps(manifest, indent=2) + "\n")
    sums = "".join(
        f"{sha256_file(os.path.join(out, n))}  {n}\n" for n in sorted([zip_name, manifest_name])
    )
    write_text(os.path.join(out, sums_name), sums)

    # Filesystem mirror, packed layout: HOST/NAMESPACE/TYPE/<the registry's zip name>.
    fs_dir = os.path.join(out, "mirror", *HOST_PATH)
    os.makedirs(fs_dir, exist_ok=True)
    shutil.copyfile(zip_path, os.path.join(fs_dir, zip_name))

    # Network mirror (provider network mirror protocol): index.json, VERSION.json and
    # the zip beside them (its URL is relative to VERSION.json).
    nm_dir = os.path.join(out, "network-mirror", *HOST_PATH)
    os.makedirs(nm_dir, exist_ok=True)
    shutil.copyfile(zip_path, os.path.join(nm_dir, zip_name))
    write_text(
        os.path.join(nm_dir, "index.json"),
        json.dumps({"versions": {version: {}}}, indent=2) + "\n",
    )
    archives = {"archives": {platform: {"url": zip_name, "hashes": zip_hashes(zip_path)}}}
    write_text(os.path.join(nm_dir, f"{version}.json"), json.dumps(archives, indent=2) + "\n")


def main(argv):
    if len(argv) >= 4 and argv[0] == "package" and len(argv) <= 5:
        package(*argv[1:])
    elif len(argv) == 2 and argv[0] == "hashes":
        print("\n".join(zip_hashes(argv[1])))
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main(sys.argv[1:])
