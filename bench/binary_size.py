#!/usr/bin/env python3
"""What the provider binary's size costs every `terraform plan` (stdlib only).

Terraform checks each installed provider package against the checksums in
`.terraform.lock.hcl` at the start of every command that runs providers (plan, apply,
validate...): it hashes the whole package, so a larger binary is read and hashed again
on every plan, whatever the provider does. This measures that cost directly: the same
provider binary, installed twice from a filesystem mirror, once as built and once
padded with zeros to a larger size (the loader ignores bytes after the ELF image, so
the padded copy runs exactly the same code). Both plan one new `paved_ha_cluster`
(no cloud call), interleaved, one warm-up round then N rounds; the difference of the
medians divided by the padding is the cost per MiB.

With --baseline OTHER, the same plan compares two provider builds instead (OTHER as
built against PATH as built): a before/after of a change to the build.

Usage: python3 bench/binary_size.py --provider PATH [--runs 15] [--pad-mib N | --baseline OTHER]
(PAVED_PROVIDER: the release binary, as for bench/foundation.sh).
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from foundation import (  # noqa: E402
    CONFIGS,
    PAVED_VERSION,
    ROOT,
    log,
    machine_info,
    run_tf,
    summary,
    tf_env,
)

# The foundation benchmark's create plan: one new paved_ha_cluster, no cloud call.
CONFIG = CONFIGS["cluster"]


def install(provider: Path, base: Path, pad: int) -> Path:
    """A mirror with the provider (padded by `pad` zero bytes), a CLI config and an
    initialised working directory; returns the working directory."""
    exe = base / "mirror" / "registry.terraform.io" / f"pavedroad/paved/{PAVED_VERSION}/linux_amd64" / \
        f"terraform-provider-paved_v{PAVED_VERSION}"
    exe.parent.mkdir(parents=True)
    with provider.open("rb") as src, exe.open("wb") as dst:
        while chunk := src.read(1 << 20):
            dst.write(chunk)
        left = pad
        zeros = bytes(1 << 20)
        while left > 0:
            n = min(left, len(zeros))
            dst.write(zeros[:n])
            left -= n
    exe.chmod(0o755)
    (base / "terraform.rc").write_text(
        f'provider_installation {{\n  filesystem_mirror {{\n    path = {json.dumps(str(base / "mirror"))}\n  }}\n}}\n'
    )
    work = base / "work"
    work.mkdir()
    (work / "main.tf").write_text(CONFIG)
    return work


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--provider", required=True)
    ap.add_argument("--venv", default=str(ROOT / ".venv"))
    ap.add_argument("--runs", type=int, default=15)
    ap.add_argument("--pad-mib", type=int, default=0, help="padding (default: the binary's own size)")
    ap.add_argument("--baseline", default=None, help="compare against this provider build instead of padding")
    args = ap.parse_args()
    provider = Path(args.provider).resolve()
    tf = Path(args.venv) / "bin" / "terraform-1.15"
    size = provider.stat().st_size
    pad = args.pad_mib * (1 << 20) if args.pad_mib else size
    with tempfile.TemporaryDirectory(prefix="paved-size-") as t:
        tmp = Path(t)
        dirs, envs = {}, {}
        if args.baseline:
            setups = (("baseline", Path(args.baseline).resolve(), 0), ("provider", provider, 0))
        else:
            setups = (("as built", provider, 0), ("padded", provider, pad))
        for name, exe, extra in setups:
            base = tmp / name.replace(" ", "-")
            base.mkdir()
            dirs[name] = install(exe, base, extra)
            # No cloud call is made: the endpoint is never dialled.
            envs[name] = tf_env(base, "http://127.0.0.1:9")
            run_tf(tf, ["init", "-input=false", "-no-color"], dirs[name], envs[name])
        times: dict[str, list[float]] = {n: [] for n in dirs}
        names = list(dirs)
        for rnd in range(args.runs + 1):
            for name in names if rnd % 2 == 0 else names[::-1]:
                secs = run_tf(tf, ["plan", "-input=false", "-no-color"], dirs[name], envs[name])
                if rnd:
                    times[name].append(secs)
            log(f"round {rnd}{' (warm-up)' if rnd == 0 else ''} done")
    if args.baseline:
        a, b = times["baseline"], times["provider"]
        base_size = Path(args.baseline).stat().st_size
        print(f"baseline {args.baseline} ({base_size / (1 << 20):.1f} MiB) against {provider} "
              f"({size / (1 << 20):.1f} MiB); {args.runs} interleaved rounds, Terraform 1.15.5, "
              "plan of one new paved_ha_cluster")
        for n in names:
            s = summary(times[n])
            print(f"  {n:9} median {s['median']:.3f} s (min {s['min']:.3f}, max {s['max']:.3f})")
        diff = statistics.median([y - x for x, y in zip(a, b)])
        print(f"  provider - baseline: {diff * 1000:+.1f} ms per plan (median of paired differences)")
        return 0
    med = {n: statistics.median(v) for n, v in times.items()}
    diffs = [p - a for a, p in zip(times["as built"], times["padded"])]
    per_mib = statistics.median(diffs) / (pad / (1 << 20)) * 1000
    m = machine_info()
    print(f"machine: {m['cpu_model']}, {m['nproc']} CPUs; load average at start {m['loadavg_at_start']}")
    print(f"binary {size / (1 << 20):.1f} MiB; padded copy {(size + pad) / (1 << 20):.1f} MiB; "
          f"{args.runs} interleaved rounds, Terraform 1.15.5, plan of one new paved_ha_cluster")
    for n in names:
        s = summary(times[n])
        print(f"  {n:9} median {s['median']:.3f} s (min {s['min']:.3f}, max {s['max']:.3f})")
    print(f"  cost of size: {per_mib:.2f} ms per MiB per plan (median of paired differences); "
          f"the binary as built: {per_mib * size / (1 << 20):.0f} ms of each plan")
    print(f"  medians' difference: {(med['padded'] - med['as built']) * 1000:.1f} ms for {pad / (1 << 20):.1f} MiB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
