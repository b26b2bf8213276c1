#!/usr/bin/env python3
"""Stack benchmark for the paved provider (stdlib only; run with the venv's python).

Real Terraform 1.15.5 drives the provider against moto through the counting,
fault-injecting proxy (`paved-fault-proxy`, crates/paved-testbed) with a fixed latency
on every AWS call (default 50 ms). For each N in N_LIST (default 1,10,50) it writes a
configuration of N pairs of a production `paved_ha_cluster` (two node pools) and a
production `paved_managed_database` (one read replica) on a `paved_network` both take
(`--wiring cluster`: in the cluster's own network, the design before), then:

  a) apply once: wall time, AWS calls, the most calls in flight at once, and each
     resource's start and end (`apply.timeline`, from `terraform apply -json`);
  b) `terraform plan` R times (default 3): wall time, AWS calls, and the provider's
     peak RSS from the "<pid> <kB> ..." lines it appends to $PAVED_PEAK_RSS_FILE, and
     the CPU time each process used in the plan: Terraform, paved (from the same
     lines), the proxy and moto (from /proc), against the plan's wall time;
  c) for N = 1, the refresh cost per resource type: the calls of a plan of the
     cluster alone (`-target`) and of the whole stack, by service and action; the
     database's share is the difference;
  d) the critical path of the N = 1 apply: wall / (calls x latency), how much of the
     apply is spent waiting one call after another.

moto runs through bench/moto_unique_oidc.py, which gives each EKS cluster its own
OIDC issuer as AWS does (moto 5.2.5 gives them all the same one, so a second
cluster's OIDC provider would collide). Moto is reset between sizes (production stacks are deletion-protected, and a reset
is faster than a destroy). Writes bench/results/stacks.md and bench/results/stacks.json.

Options that change what is measured (both off by default):

  --replay        keep moto out of the measured plans: the proxy records the answers of read calls
                  during the apply and one unmeasured warm-up plan (which replays what the apply
                  recorded and records the rest), then answers the measured plans' reads from the
                  records (`paved-fault-proxy --record/--replay`); the latency still applies. Each
                  plan row reports how many of its calls were replayed.
  --time-scale N  apply under the proxy's provisioning-time model (`paved-fault-proxy
                  --time-scale N`): NAT gateways, EKS clusters, node groups and add-ons, RDS
                  instances stay in their transitional state for AWS-like durations, N modelled
                  seconds per real second; the apply's wall time is also reported in modelled
                  minutes (wall x N / 60) against the critical path (the longest chain of modelled
                  waits), and the destroy is measured the same way (deletion protection off).
                  The proxy's latency, Terraform and moto run in real time and count N times over
                  in modelled time, so a large N overstates the modelled apply.
Normally started by bench/stacks.sh, which builds the provider and the proxy first (unless
PAVED_PROVIDER and PAVED_FAULT_PROXY name binaries). bench/charts.py draws the results.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import re
import resource
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from foundation import (  # noqa: E402 - shared bench helpers
    PAVED_VERSION,
    Moto,
    fmt,
    git_commit,
    link_or_copy,
    log,
    machine_info,
    read_rss,
    read_usage,
    report_header,
    stop,
    summary,
    tf_env,
    write_results,
)

ROOT = Path(__file__).resolve().parent.parent
CONTROL = "/__paved_proxy"

# Targets of issue 5, section 2; the refresh calls as issue 13, item 6 lowered them.
TARGET_CLUSTER_REFRESH_CALLS = 12
TARGET_DATABASE_REFRESH_CALLS = 4
TARGET_PLAN_50_SECONDS = 3.0  # issue 13, with reads replayed (--replay)
TARGET_CRITICAL_PATH = 0.35
TARGET_MODEL_RATIO = 1.15  # issue 13: wall time within 1.15 x the critical path, create and destroy
TARGET_PEAK_RSS_MB = 50.0  # issue 13

HEADER = """
terraform {
  required_providers {
    paved = { source = "pavedroad/paved" }
  }
}

provider "paved" {}
"""


def stack_hcl(i: int, db_key: str = "own", wiring: str = "network", protected: bool = True) -> str:
    """One production cluster with two node pools and a production database in its network.

    wiring "network" (the default, the recommended design): a `paved_network` both take, so
    Terraform creates the cluster and the database side by side once it exists; "cluster":
    the cluster builds its own network and the database takes it from the cluster (so it
    waits for the whole cluster). db_key "own": the database gets the KMS key paved creates
    for it (the default); "cluster": it is encrypted with the cluster's key instead.
    protected False turns deletion protection off (for a measured destroy).
    """
    key_line = f"\n  encryption_key_arn = paved_ha_cluster.c{i}.encryption_key_arn" if db_key == "cluster" else ""
    dp = "" if protected else "\n  deletion_protection = false"
    if wiring == "network":
        head = f"""
resource "paved_network" "n{i}" {{
  name    = "bench-n{i}"
  profile = "production"
  cidr    = "10.{i % 250}.0.0/16"{dp}
}}
"""
        cluster_net = f"""existing_vpc_id     = paved_network.n{i}.vpc_id
    existing_subnet_ids = paved_network.n{i}.subnet_ids"""
        db_net = f"""vpc_id        = paved_network.n{i}.vpc_id
    subnet_ids    = paved_network.n{i}.subnet_ids["intra"]
    allowed_cidrs = [paved_network.n{i}.cidr]"""
    else:
        head = ""
        cluster_net = f'cidr = "10.{i % 250}.0.0/16"'
        db_net = f"""vpc_id        = paved_ha_cluster.c{i}.network.vpc_id
    subnet_ids    = values(paved_ha_cluster.c{i}.network.private_subnet_ids)
    allowed_cidrs = [paved_ha_cluster.c{i}.network.cidr]"""
    return head + f"""
resource "paved_ha_cluster" "c{i}" {{
  name               = "bench-c{i}"
  profile            = "production"
  kubernetes_version = "1.31"
  # moto's clusters have no Kubernetes API: the baseline is written as files.
  delivery           = "gitops"
  gitops_path        = "gitops-c{i}"{dp}
  network = {{
    {cluster_net}
  }}
  node_pools = {{
    general = {{
      instance_types = ["m6i.large"]
      min_size       = 3
      max_size       = 9
    }}
    batch = {{
      instance_types = ["m6i.large", "m5.large", "m5a.large"]
      capacity       = "spot"
      min_size       = 3
      max_size       = 12
      labels         = {{ workload = "batch" }}
    }}
  }}
}}

resource "paved_managed_database" "d{i}" {{
  name    = "bench-d{i}"
  profile = "production"{key_line}{dp}
  network = {{
    {db_net}
  }}
}}
"""


def config_for(n: int, db_key: str = "own", wiring: str = "network", protected: bool = True) -> str:
    return HEADER + "".join(stack_hcl(i, db_key, wiring, protected) for i in range(n))


# ------------------------------------------------------------------------------------
# the proxy
# ------------------------------------------------------------------------------------


class Proxy:
    """`paved-fault-proxy` in front of moto, with latency on every call."""

    def __init__(self, binary: Path, upstream: str, latency_ms: int, workdir: Path, extra_args: list[str] | None = None):
        self.log = workdir / "proxy.log"
        self.proc = subprocess.Popen(
            [str(binary), "--upstream", upstream, "--latency-ms", str(latency_ms), *(extra_args or [])],
            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=open(self.log, "wb"),
        )
        line = self.proc.stdout.readline().decode(errors="replace").strip()
        m = re.match(r"Listening on (http://127\.0\.0\.1:\d+)$", line)
        if not m:
            stop(self.proc)
            raise RuntimeError(f"paved-fault-proxy did not announce its port (got {line!r}); "
                               f"log:\n{self.log.read_text(errors='replace')}")
        self.endpoint = m.group(1)

    def _call(self, method: str, path: str, body: dict | None = None) -> dict:
        data = json.dumps(body).encode() if body is not None else (b"" if method == "POST" else None)
        req = urllib.request.Request(self.endpoint + CONTROL + path, method=method, data=data,
                                     headers={"content-type": "application/json"} if body is not None else {})
        with urllib.request.urlopen(req, timeout=10) as resp:
            return json.loads(resp.read())

    def replay(self, **settings) -> dict:
        """POST /replay: record, replay, clear (see paved-fault-proxy --help)."""
        return self._call("POST", "/replay", settings)

    def provisioning(self, **settings) -> dict:
        """POST /provisioning: enabled, time_scale, durations, clear."""
        return self._call("POST", "/provisioning", settings)

    def provisioning_report(self) -> dict:
        """GET /provisioning: the durations in force and the objects in transition."""
        return self._call("GET", "/provisioning")

    def stats(self) -> dict:
        return self._call("GET", "/stats")

    def reset(self) -> None:
        self._call("POST", "/reset")

    def close(self) -> None:
        stop(self.proc)


def process_cpu_s(pid: int) -> float:
    """CPU time (user + system, all threads) a running process has used so far, in s:
    fields 14 and 15 of /proc/PID/stat, in ticks of 1/100 s (Linux's USER_HZ)."""
    stat = Path(f"/proc/{pid}/stat").read_text()
    fields = stat[stat.rfind(")") + 1:].split()
    return (int(fields[11]) + int(fields[12])) / 100


def children_cpu_s() -> float:
    """CPU time of this process's waited-for children and their waited-for descendants, in s
    (Terraform reaps the provider processes it starts, so they count too)."""
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def provider_cpu_s(path: Path) -> float | None:
    """The provider processes' CPU time, in s, from the lines they append at exit
    (`read_usage`); None when the build reports none."""
    ms = [r["cpu_ms"] for r in read_usage(path) if "cpu_ms" in r]
    return sum(ms) / 1000 if ms else None


def calls_by_action(stats: dict) -> dict[str, int]:
    """`service:Action` -> count, from the proxy's stats."""
    return {f"{svc}:{act}": n for svc, acts in stats.get("by_service", {}).items() for act, n in acts.items()}


def reset_moto(endpoint: str) -> None:
    req = urllib.request.Request(endpoint + "/moto-api/reset", method="POST", data=b"")
    urllib.request.urlopen(req, timeout=30).read()
    warm_moto(endpoint)


def warm_moto(endpoint: str) -> None:
    """moto builds each service's backend on its first request (EC2 takes about 2 s,
    IAM loads the managed policies): one cheap call per service, straight to moto (not
    through the proxy, so not counted), keeps the emulator's start-up out of the
    timings of the provider."""
    import boto3  # in the venv with moto

    kw = dict(endpoint_url=endpoint, region_name="us-east-1",
              aws_access_key_id="testing", aws_secret_access_key="testing")
    for service, call in [("ec2", "describe_availability_zones"), ("eks", "list_clusters"),
                          ("iam", "list_roles"), ("kms", "list_keys"),
                          ("logs", "describe_log_groups"), ("rds", "describe_db_instances"),
                          ("secretsmanager", "list_secrets"), ("elbv2", "describe_load_balancers")]:
        getattr(boto3.client(service, **kw), call)()


# ------------------------------------------------------------------------------------
# terraform
# ------------------------------------------------------------------------------------


def run_tf(tf: Path, args: list[str], cwd: Path, env: dict, timeout: float = 3600,
           timeline: list | None = None) -> float:
    """Runs terraform ARGS in its own process group, so that an interrupted benchmark
    stops Terraform and the provider processes it started; returns the wall time.
    With TIMELINE (a list), runs it with `-json` and appends each resource's apply start
    and end to it (see `apply_timeline`)."""
    if timeline is not None:
        args = [*args, "-json"]
    t0 = time.perf_counter()
    t0_wall = time.time()
    proc = subprocess.Popen([str(tf), *args], cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, stdin=subprocess.DEVNULL, start_new_session=True)
    try:
        stdout, stderr = proc.communicate(timeout=timeout)
    except BaseException:
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        proc.wait()
        raise
    secs = time.perf_counter() - t0
    (cwd / f"last-{args[0]}.log").write_text(stdout + "\n--- stderr ---\n" + stderr)
    if proc.returncode not in (0, 2) or (proc.returncode == 2 and "-detailed-exitcode" not in args):
        if timeline is not None:
            stdout = "\n".join(json_messages(stdout))
        raise RuntimeError(
            f"`terraform {' '.join(args)}` in {cwd} failed (exit {proc.returncode}):\n"
            f"{stdout[-4000:]}\n{stderr[-4000:]}"
        )
    if timeline is not None:
        timeline.extend(apply_timeline(stdout, t0_wall))
    return secs


def json_messages(stdout: str) -> list[str]:
    """The human-readable lines (`@message`, and a diagnostic's detail) of `terraform -json` output."""
    out = []
    for line in stdout.splitlines():
        try:
            m = json.loads(line)
        except ValueError:
            out.append(line)
            continue
        out.append(str(m.get("@message", line)))
        detail = (m.get("diagnostic") or {}).get("detail")
        if detail:
            out.append(f"  {detail}")
    return out


def apply_timeline(stdout: str, t0_wall: float) -> list[dict]:
    """Each resource's apply from the `apply_start` and `apply_complete` (or `apply_errored`)
    messages of `terraform apply -json` (or destroy): [{address, action, start_s, end_s}] in
    real seconds from the start of the terraform process (the plan before the apply
    included), ordered by start. A resource still running when Terraform stopped has end_s
    None; one that failed has `errored`."""
    rows: list[dict] = []
    running: dict[tuple, dict] = {}
    for line in stdout.splitlines():
        try:
            m = json.loads(line)
        except ValueError:
            continue
        kind = m.get("type") if isinstance(m, dict) else None
        if kind not in ("apply_start", "apply_complete", "apply_errored"):
            continue
        hook = m.get("hook") or {}
        address = (hook.get("resource") or {}).get("addr")
        action = hook.get("action")
        at = round(dt.datetime.fromisoformat(m["@timestamp"]).timestamp() - t0_wall, 3)
        if kind == "apply_start":
            row = {"address": address, "action": action, "start_s": at, "end_s": None}
            running[(address, action)] = row
            rows.append(row)
            continue
        row = running.pop((address, action), None)
        if row is None:  # an end without its start: keep it, start unknown
            row = {"address": address, "action": action, "start_s": None, "end_s": None}
            rows.append(row)
        row["end_s"] = at
        if kind == "apply_errored":
            row["errored"] = True
    return rows


def critical_path_limits(report: dict) -> dict:
    """The critical path of a production stack's apply and destroy, in modelled seconds, from
    the durations the proxy's model has in force: the longest chain of waits that must follow
    each other. Create: the network (NAT gateways), then the slower of (control plane, then a
    node group, then an add-on) and (the Multi-AZ primary, then its replica). Destroy: the
    slower of (node groups, then the control plane) and (the replica, then the primary with
    its final snapshot), then the network (NAT gateways)."""
    d = {k["kind"]: k["seconds"] for k in report.get("kinds", [])}
    g = lambda kind: float(d.get(kind, 0.0))  # noqa: E731
    cluster = g("eks_cluster_create") + g("eks_nodegroup_create") + g("eks_addon_create")
    database = g("db_instance_create_multi_az") + g("db_instance_read_replica")
    cluster_down = g("eks_nodegroup_delete") + g("eks_cluster_delete")
    database_down = g("db_instance_delete") + g("db_instance_delete_final_snapshot")
    return {
        "create": g("nat_gateway_create") + max(cluster, database),
        "destroy": max(cluster_down, database_down) + g("nat_gateway_delete"),
        "network": g("nat_gateway_create"),
        "cluster_chain": cluster,
        "database_chain": database,
    }


class Bench:
    def __init__(self, provider: Path, proxy_bin: Path, venv: Path, latency_ms: int, tmp: Path, db_key: str,
                 replay: bool = False, time_scale: float | None = None, wiring: str = "network",
                 also_parallelism: int | None = None):
        self.db_key = db_key
        # Plans measured again at this `-parallelism` (Terraform's default walks 10 resources
        # at once): how much of a large plan's time is the width of Terraform's walk.
        self.also_parallelism = also_parallelism
        self.wiring = wiring
        self.replay = replay
        self.time_scale = time_scale
        # The EKS calls moto lacks (add-ons, version updates, access entries) are
        # answered by the proxy, as in the end-to-end tests.
        proxy_args = (["--eks-stand-ins"] + (["--record"] if replay else [])
                      + (["--time-scale", str(time_scale)] if time_scale else []))
        if time_scale:
            # The latency is a modelled quantity too: 50 ms of AWS latency is 50 ms of
            # modelled time, so the real delay is latency / scale (at least 1 ms).
            latency_ms = max(1, round(latency_ms / time_scale))
        self.tf = venv / "bin" / "terraform-1.15"
        self.tmp = tmp
        mirror = tmp / "mirror" / "registry.terraform.io"
        link_or_copy(provider, mirror / f"pavedroad/paved/{PAVED_VERSION}/linux_amd64/terraform-provider-paved_v{PAVED_VERSION}")
        (tmp / "terraform.rc").write_text(
            f'provider_installation {{\n  filesystem_mirror {{\n    path = {json.dumps(str(tmp / "mirror"))}\n  }}\n}}\n'
        )
        # One OIDC issuer per cluster, as in AWS (moto shares one between all clusters).
        self.moto = Moto(venv, tmp, [str(venv / "bin" / "python"), str(Path(__file__).resolve().parent / "moto_unique_oidc.py")])
        try:
            self.proxy = Proxy(proxy_bin, self.moto.endpoint, latency_ms, tmp, proxy_args)
        except Exception:
            self.moto.close()
            raise
        self.env = tf_env(tmp, self.proxy.endpoint)
        if time_scale:
            # The provider's waiters on the same scaled clock as the proxy's model.
            self.env["PAVED_TIME_SCALE"] = str(time_scale)
        self.latency_ms = latency_ms

    def close(self) -> None:
        self.proxy.close()
        self.moto.close()

    def measured(self, args: list[str], cwd: Path, rss_file: Path | None = None, timeline: bool = False) -> dict:
        """Runs terraform ARGS with fresh proxy counters; wall time and the calls it made (and
        with TIMELINE, each resource's start and end: an apply or destroy run with `-json`)."""
        self.proxy.reset()
        env = dict(self.env)
        if rss_file is not None:
            env["PAVED_PEAK_RSS_FILE"] = str(rss_file)
        rows: list | None = [] if timeline else None
        servers = {"proxy": self.proxy.proc.pid, "moto": self.moto.proc.pid}
        cpu0 = {name: process_cpu_s(pid) for name, pid in servers.items()}
        children0 = children_cpu_s()
        secs = run_tf(self.tf, args, cwd, env, timeline=rows)
        children = children_cpu_s() - children0
        cpu = {name: process_cpu_s(pid) - cpu0[name] for name, pid in servers.items()}
        stats = self.proxy.stats()
        row = {"seconds": secs, "calls": stats["total"], "max_in_flight": stats["max_in_flight"],
               "upstream_errors": stats["upstream_errors"], "by_action": calls_by_action(stats)}
        if rows is not None:
            row["timeline"] = rows
        if self.replay:
            row["replayed"] = stats.get("replayed", 0)
        if rss_file is not None:
            rows = read_rss(rss_file)
            row["provider_processes"] = len(rows)
            row["peak_rss_kb"] = max((kb for _, kb in rows), default=None)
            split = peak_split(rss_file)
            if split:
                row["peak_split_kb"] = split
            paved = provider_cpu_s(rss_file)
            if paved is not None:
                # Terraform's own share: its process and its reaped children minus paved's.
                row["cpu_s"] = {"terraform": max(0.0, children - paved), "paved": paved, **cpu}
        return row

    def size(self, n: int, plan_runs: int) -> dict:
        reset_moto(self.moto.endpoint)
        # The records and the modelled objects were moto's before the reset.
        if self.replay:
            self.proxy.replay(clear=True, record=True, replay=False)
        if self.time_scale:
            self.proxy.provisioning(clear=True)
        d = self.tmp / f"n{n}"
        d.mkdir()
        # Under the provisioning model the destroy is measured too: no deletion protection.
        (d / "main.tf").write_text(config_for(n, self.db_key, self.wiring, protected=not self.time_scale))
        run_tf(self.tf, ["init", "-input=false", "-no-color"], d, self.env)
        log(f"N={n}: apply")
        apply = self.measured(["apply", "-auto-approve", "-input=false", "-no-color"], d, timeline=True)
        log(f"N={n}: apply {apply['seconds']:.1f} s, {apply['calls']} calls"
            + (f", {apply['seconds'] * self.time_scale / 60:.1f} modelled min" if self.time_scale else ""))
        warm_up = None
        if self.replay:
            # Reads the apply did not record (or recorded before a later write of their
            # service) are recorded by one unmeasured plan; the measured plans replay only.
            self.proxy.replay(record=True, replay=True)
            warm_up = self.measured(["plan", "-input=false", "-no-color", "-detailed-exitcode"], d)
            self.proxy.replay(record=False, replay=True)
            log(f"N={n}: warm-up plan {warm_up['seconds']:.2f} s, {warm_up['calls']} calls, "
                f"{warm_up['replayed']} replayed")
        plans = []
        for r in range(plan_runs):
            row = self.measured(["plan", "-input=false", "-no-color", "-detailed-exitcode"], d,
                                rss_file=d / f"rss-{r}.txt")
            plans.append(row)
            log(f"N={n}: plan {r + 1}/{plan_runs} {row['seconds']:.2f} s, {row['calls']} calls, "
                + (f"{row['replayed']} replayed, " if self.replay else "")
                + f"peak RSS {fmt((row['peak_rss_kb'] or 0) / 1024, ' MiB')}")
        empty = "No changes." in (d / "last-plan.log").read_text()
        wide = []
        if self.also_parallelism:
            for r in range(plan_runs):
                row = self.measured(["plan", "-input=false", "-no-color", "-detailed-exitcode",
                                     f"-parallelism={self.also_parallelism}"], d, rss_file=d / f"rss-wide-{r}.txt")
                wide.append(row)
                log(f"N={n}: plan -parallelism={self.also_parallelism} {r + 1}/{plan_runs} {row['seconds']:.2f} s, "
                    f"{row['calls']} calls, max in flight {row['max_in_flight']}, "
                    f"peak RSS {fmt((row['peak_rss_kb'] or 0) / 1024, ' MiB')}")
        peaks = [p["peak_rss_kb"] for p in plans if p.get("peak_rss_kb") is not None]
        splits = [p["peak_split_kb"] for p in plans if p.get("peak_split_kb")]
        res = {
            "n": n,
            "resources": 2 * n,
            "apply": {k: apply[k] for k in ("seconds", "calls", "max_in_flight", "upstream_errors")},
            "plan": {
                "seconds": summary([p["seconds"] for p in plans]),
                "calls": summary([float(p["calls"]) for p in plans]),
                "max_in_flight": max(p["max_in_flight"] for p in plans),
                "peak_rss_kb": summary(peaks) if peaks else None,
                "peak_split_kb": {k: statistics.median(x[k] for x in splits) for k in ("anon", "file")}
                if splits else None,
                "provider_processes_per_plan": sorted({p.get("provider_processes", 0) for p in plans}),
                "cpu_s": cpu_summary(plans),
                "empty": empty,
            },
            "apply_by_action": apply["by_action"],
        }
        if wide:
            wide_peaks = [p["peak_rss_kb"] for p in wide if p.get("peak_rss_kb") is not None]
            res["plan_wide"] = {
                "parallelism": self.also_parallelism,
                "seconds": summary([p["seconds"] for p in wide]),
                "max_in_flight": max(p["max_in_flight"] for p in wide),
                "peak_rss_kb": summary(wide_peaks) if wide_peaks else None,
                "cpu_s": cpu_summary(wide),
            }
        if n == 1:
            res["refresh"] = self.refresh_cost(d, plans[-1]["by_action"])
            res["critical_path"] = {
                "apply_seconds": apply["seconds"],
                "calls": apply["calls"],
                "latency_ms": self.latency_ms,
                "serial_seconds": apply["calls"] * self.latency_ms / 1000,
                "ratio": apply["seconds"] / (apply["calls"] * self.latency_ms / 1000) if apply["calls"] else None,
            }
        if self.time_scale:
            res["apply"]["time_scale"] = self.time_scale
            res["apply"]["modelled_minutes"] = apply["seconds"] * self.time_scale / 60
            limits = critical_path_limits(self.proxy.provisioning_report())
            res["apply"]["limit_minutes"] = limits["create"] / 60
            res["apply"]["limit_ratio"] = apply["seconds"] * self.time_scale / limits["create"]
            res["critical_path_model"] = limits
            log(f"N={n}: destroy")
            destroy = self.measured(["destroy", "-auto-approve", "-input=false", "-no-color"], d, timeline=True)
            res["destroy"] = {
                "seconds": destroy["seconds"],
                "calls": destroy["calls"],
                "modelled_minutes": destroy["seconds"] * self.time_scale / 60,
                "limit_minutes": limits["destroy"] / 60,
                "limit_ratio": destroy["seconds"] * self.time_scale / limits["destroy"],
                "timeline": destroy["timeline"],
            }
            log(f"N={n}: destroy {destroy['seconds']:.1f} s, {res['destroy']['modelled_minutes']:.1f} modelled min "
                f"(limit {res['destroy']['limit_minutes']:.1f})")
        if self.replay:
            res["plan"]["replayed"] = summary([float(p["replayed"]) for p in plans])
            res["plan"]["warm_up"] = {k: warm_up[k] for k in ("seconds", "calls", "replayed")}
        # Each resource's start and end (real seconds from the start of `terraform apply`; x
        # time_scale for modelled ones): bench/charts.py draws it.
        res["apply"]["timeline"] = apply["timeline"]
        return res

    def refresh_cost(self, d: Path, whole: dict[str, int]) -> dict:
        """Calls of one plan by resource type, from `-target` plans (a target brings its
        dependencies along): the network alone; the cluster = its target minus the network's;
        the database = the whole plan minus the cluster's target. With `--wiring cluster` there
        is no network resource and the cluster's share holds its own network's calls."""
        def target(address: str) -> dict[str, int]:
            return self.measured(["plan", "-input=false", "-no-color", "-detailed-exitcode",
                                  f"-target={address}"], d)["by_action"]

        def minus(a: dict[str, int], b: dict[str, int]) -> dict[str, int]:
            out = {k: a.get(k, 0) - b.get(k, 0) for k in sorted(set(a) | set(b))}
            return {k: v for k, v in out.items() if v != 0}

        cluster_and_deps = target("paved_ha_cluster.c0")
        network = target("paved_network.n0") if self.wiring == "network" else {}
        cluster = minus(cluster_and_deps, network)
        database = minus(whole, cluster_and_deps)
        return {
            "whole_plan": dict(sorted(whole.items())),
            "network": dict(sorted(network.items())),
            "cluster": dict(sorted(cluster.items())),
            "database": database,
            "network_calls": sum(network.values()),
            "cluster_calls": sum(cluster.values()),
            "database_calls": sum(database.values()),
            "total_calls": sum(whole.values()),
            "method": "network = calls of `plan -target=paved_network.n0` (includes any provider-level call); "
                      "cluster = calls of `plan -target=paved_ha_cluster.c0` minus the network's; database = "
                      "whole plan minus the cluster's target",
        }


# ------------------------------------------------------------------------------------
# report
# ------------------------------------------------------------------------------------


def targets(res: dict) -> list[dict]:
    sizes = {s["n"]: s for s in res.get("sizes", []) if "error" not in s}
    out = []

    def add(name: str, target: str, value, ok):
        out.append({"target": name, "goal": target, "value": value, "met": ok})

    one = sizes.get(1)
    if one and "refresh" in one:
        r = one["refresh"]
        # The same scope as a cluster that builds its own network: the cluster and its network.
        both = r["cluster_calls"] + r.get("network_calls", 0)
        add("refresh calls, cluster with its network (plan, N=1)", f"<= {TARGET_CLUSTER_REFRESH_CALLS}", both,
            both <= TARGET_CLUSTER_REFRESH_CALLS)
        add("refresh calls, database (plan, N=1)", f"<= {TARGET_DATABASE_REFRESH_CALLS}", r["database_calls"],
            r["database_calls"] <= TARGET_DATABASE_REFRESH_CALLS)
    # Calls x latency says nothing once the provisioning model makes the waits real.
    if one and one.get("critical_path", {}).get("ratio") is not None and not res.get("time_scale"):
        c = one["critical_path"]["ratio"]
        add("critical path, apply of one stack", f"<= {TARGET_CRITICAL_PATH}", round(c, 3), c <= TARGET_CRITICAL_PATH)
    if one and one["apply"].get("limit_ratio") is not None:
        r = one["apply"]["limit_ratio"]
        add("apply of one stack under the provisioning model, / its critical path", f"<= {TARGET_MODEL_RATIO}",
            round(r, 3), r <= TARGET_MODEL_RATIO)
        if one.get("destroy"):
            r = one["destroy"]["limit_ratio"]
            add("destroy of one stack under the provisioning model, / its critical path",
                f"<= {TARGET_MODEL_RATIO}", round(r, 3), r <= TARGET_MODEL_RATIO)
    fifty = sizes.get(50)
    if fifty:
        p = fifty["plan"]["seconds"]["median"]
        add("plan of 50 pairs, 50 ms latency (median)", f"< {TARGET_PLAN_50_SECONDS} s", round(p, 2),
            p < TARGET_PLAN_50_SECONDS)
        rss = fifty["plan"]["peak_rss_kb"]
        if rss:
            mb = rss["max"] / 1024
            add("provider peak RSS (MiB), plan of 50 pairs (max)", f"< {TARGET_PEAK_RSS_MB:.0f} MiB", round(mb, 1),
                mb < TARGET_PEAK_RSS_MB)
    return out


def cpu_summary(plans: list[dict]) -> dict | None:
    """Medians of the plans' CPU seconds by process (see `Bench.measured`)."""
    rows = [p["cpu_s"] for p in plans if p.get("cpu_s")]
    if not rows:
        return None
    return {k: statistics.median(r[k] for r in rows) for k in rows[0]}


def cpu_text(cpu: dict | None, wall: float) -> str:
    """A plan's CPU seconds by process and their sum against the wall time."""
    if not cpu:
        return "n/a"
    total = sum(cpu.values())
    parts = ", ".join(f"{k} {v:.2f}" for k, v in cpu.items())
    return f"{parts}; all {total:.2f} s in {wall:.2f} s wall ({total / wall:.2f} cores busy)"


def peak_split(path: Path) -> dict | None:
    """RssAnon and RssFile at shutdown (kB) of the process with the highest peak, from the
    lines the provider processes append at exit (`read_usage`)."""
    rows = [r for r in read_usage(path) if "file_kb" in r]
    best = max(rows, key=lambda r: r["peak_kb"], default=None)
    return {"anon": best["anon_kb"], "file": best["file_kb"]} if best else None


def rss_text(rss: dict | None) -> str:
    """A peak-RSS summary (KiB) as "median MiB (min-max MiB)"."""
    if not rss:
        return "n/a"
    return f"{fmt(rss['median'] / 1024, ' MiB')} ({fmt(rss['min'] / 1024, '')}-{fmt(rss['max'] / 1024, ' MiB')})"


def write_markdown(res: dict, path: Path) -> None:
    lines = report_header("Stack benchmark: production cluster + database pairs", res) + [
        f"- Terraform 1.15.5, default `-parallelism` (10); AWS: moto 5.2.5 behind `paved-fault-proxy` adding "
        f"{res['latency_ms']} ms to every call",
        "- each pair: `paved_ha_cluster` (profile production: 3 zones, NAT per zone, two node pools + system) and "
        "`paved_managed_database` (profile production: Multi-AZ, one read replica) "
        + ("on a `paved_network` both take, " if res.get("wiring", "network") == "network"
           else "in the cluster's own network (`--wiring cluster`), ")
        + ("encrypted with the KMS key paved creates for it" if res.get("db_key", "own") == "own"
           else "encrypted with the cluster's KMS key (`DB_KEY=cluster`)"),
        "",
        "## Targets",
        "",
        "| target | goal | measured | met |",
        "|---|---|---:|---|",
    ]
    for t in res["targets"]:
        lines.append(f"| {t['target']} | {t['goal']} | {t['value']} | {'yes' if t['met'] else '**no**'} |")
    if not res["targets"]:
        lines.append("| (none measured) | | | |")
    lines += [
        "",
        f"## Apply once, then `terraform plan` ({res['plan_runs']} runs; runs per size in the last column): "
        "wall time and AWS calls",
        "",
        "| pairs | apply | apply calls | apply max in flight | plan median | plan min-max | plan calls | "
        "plan max in flight | provider peak RSS (median, min-max) | plan empty | plan runs |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|---:|",
    ]
    for s in res["sizes"]:
        if "error" in s:
            lines.append(f"| {s['n']} | FAILED: see below | | | | | | | | | |")
            continue
        a, p = s["apply"], s["plan"]
        rss_txt = rss_text(p["peak_rss_kb"])
        lines.append(
            f"| {s['n']} | {fmt(a['seconds'], ' s', 1)} | {a['calls']} | {a['max_in_flight']} | "
            f"{fmt(p['seconds']['median'], ' s', 2)} | {fmt(p['seconds']['min'], '', 2)}-{fmt(p['seconds']['max'], ' s', 2)} | "
            f"{p['calls']['median']:.0f} | {p['max_in_flight']} | {rss_txt} | {'yes' if p['empty'] else '**no**'} | "
            f"{p['seconds']['n']} |"
        )
    splits = [(s["n"], s["plan"]["peak_split_kb"]) for s in res["sizes"]
              if "error" not in s and s["plan"].get("peak_split_kb")]
    if splits:
        lines += ["", "Of the plan's largest provider process, at shutdown (medians): "
                  + "; ".join(f"{n} pairs: {fmt(sp['anon'] / 1024, ' MiB')} anonymous (heap, stacks), "
                              f"{fmt(sp['file'] / 1024, ' MiB')} file-backed (the binary's pages mapped)"
                              for n, sp in splits) + "."]
    ok_sizes = [s for s in res["sizes"] if "error" not in s]
    cpus = [s for s in ok_sizes if s["plan"].get("cpu_s")]
    if cpus:
        lines += ["", "CPU time of one plan (medians, s; Terraform's includes nothing of paved's, which each "
                  "provider process reports at exit; the proxy and moto from /proc; 2 cores): "
                  + "; ".join(f"{s['n']} pairs: {cpu_text(s['plan']['cpu_s'], s['plan']['seconds']['median'])}"
                              + (f"; at `-parallelism={s['plan_wide']['parallelism']}`: "
                                 f"{cpu_text(s['plan_wide']['cpu_s'], s['plan_wide']['seconds']['median'])}"
                                 if (s.get("plan_wide") or {}).get("cpu_s") else "")
                              for s in cpus) + "."]
    wide = [s for s in ok_sizes if s.get("plan_wide")]
    if wide:
        par = wide[0]["plan_wide"]["parallelism"]
        lines += [
            "",
            f"## The same plans at `-parallelism={par}` (same run, after the default ones)",
            "",
            "| pairs | plan median (default 10) | plan median (" + str(par) + ") | min-max | max in flight | "
            "provider peak RSS (median, min-max) |",
            "|---:|---:|---:|---:|---:|---:|",
        ]
        for s in wide:
            w = s["plan_wide"]
            rss_txt = rss_text(w["peak_rss_kb"])
            lines.append(
                f"| {s['n']} | {fmt(s['plan']['seconds']['median'], ' s', 2)} | {fmt(w['seconds']['median'], ' s', 2)} | "
                f"{fmt(w['seconds']['min'], '', 2)}-{fmt(w['seconds']['max'], ' s', 2)} | {w['max_in_flight']} | {rss_txt} |"
            )
    if res.get("replay") and ok_sizes:
        lines += [
            "",
            "## Replay: plans answered from recorded reads (`--replay`)",
            "",
            "Reads recorded during the apply and one unmeasured warm-up plan; the measured plans' reads are "
            "answered by the proxy from those records (latency still applied), so moto is out of their timings.",
            "",
            "| pairs | plan calls (median) | replayed (median) | warm-up plan | warm-up calls | warm-up replayed |",
            "|---:|---:|---:|---:|---:|---:|",
        ]
        for s in ok_sizes:
            p = s["plan"]
            w = p.get("warm_up", {})
            lines.append(f"| {s['n']} | {p['calls']['median']:.0f} | {p['replayed']['median']:.0f} | "
                         f"{fmt(w.get('seconds'), ' s', 2)} | {w.get('calls', '')} | {w.get('replayed', '')} |")
    if res.get("time_scale") and ok_sizes:
        scale = res["time_scale"]
        lines += [
            "",
            f"## Apply under the provisioning-time model (`--time-scale {scale:g}`)",
            "",
            f"The proxy holds NAT gateways, EKS clusters, node groups and add-ons, RDS instances in their transitional "
            f"state for AWS-like durations (`GET /__paved_proxy/provisioning` lists them), {scale:g} modelled seconds per "
            "real second. Modelled minutes = wall x scale / 60; the proxy latency, Terraform, moto and the provider's "
            "waiter intervals run in real time and so count scale times over.",
            "",
            "| pairs | apply wall | apply, modelled | critical path | ratio | destroy wall | destroy, modelled | "
            "critical path | ratio |",
            "|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
        ]
        for s in ok_sizes:
            a, z = s["apply"], s.get("destroy", {})
            lines.append(f"| {s['n']} | {fmt(a['seconds'], ' s', 1)} | {fmt(a.get('modelled_minutes'), ' min', 1)} | "
                         f"{fmt(a.get('limit_minutes'), ' min', 1)} | {fmt(a.get('limit_ratio'), '', 2)} | "
                         f"{fmt(z.get('seconds'), ' s', 1)} | {fmt(z.get('modelled_minutes'), ' min', 1)} | "
                         f"{fmt(z.get('limit_minutes'), ' min', 1)} | {fmt(z.get('limit_ratio'), '', 2)} |")
        m = next((s.get("critical_path_model") for s in ok_sizes if s.get("critical_path_model")), None)
        if m:
            lines += ["", f"Critical path of the create: network {m['network'] / 60:.1f} min, then the slower of "
                      f"cluster {m['cluster_chain'] / 60:.1f} min (control plane, node group, add-on) and database "
                      f"{m['database_chain'] / 60:.1f} min (Multi-AZ primary, replica). Destroy: the slower of (node "
                      "groups, control plane) and (replica, primary with final snapshot), then the NAT gateways."]
    errors = [s for s in res["sizes"] if "error" in s]
    for s in errors:
        lines += ["", f"N={s['n']} FAILED:", "", "```", s["error"][-3000:], "```"]
    one = next((s for s in res["sizes"] if s["n"] == 1 and "error" not in s), None)
    if one and "refresh" in one:
        r = one["refresh"]
        lines += [
            "",
            "## Refresh cost of one stack (N=1): AWS calls of one `terraform plan`",
            "",
            f"{r['method']}.",
            "",
            f"Network: **{r.get('network_calls', 0)}** calls, cluster: **{r['cluster_calls']}** calls, database: "
            f"**{r['database_calls']}** calls, whole plan: {r['total_calls']}.",
            "",
            "| service:action | network | cluster | database |",
            "|---|---:|---:|---:|",
        ]
        net = r.get("network", {})
        for k in sorted(set(net) | set(r["cluster"]) | set(r["database"])):
            lines.append(f"| {k} | {net.get(k, 0)} | {r['cluster'].get(k, 0)} | {r['database'].get(k, 0)} |")
    if one and "critical_path" in one:
        c = one["critical_path"]
        lines += [
            "",
            "## Critical path: apply of one production stack",
            "",
            f"{c['calls']} calls x {c['latency_ms']} ms = {fmt(c['serial_seconds'], ' s', 1)} if made one after another; "
            f"the apply took {fmt(c['apply_seconds'], ' s', 1)}: ratio **{fmt(c['ratio'], '', 3)}** "
            "(1.0 = fully serial; lower = more in parallel; includes Terraform's and moto's own time).",
            "",
            "Calls of that apply by service:action:",
            "",
            "| service:action | calls |",
            "|---|---:|",
        ]
        for k, v in sorted(one["apply_by_action"].items()):
            lines.append(f"| {k} | {v} |")
    lines += [
        "",
        "## Reading the numbers",
        "",
        "- moto is one Python process: with many stacks in one account each `Describe*`/`List*` scans every "
        "object, and moto, not the provider, sets the pace (observed at ~90 % of a core during a 50-pair plan "
        "while the provider keeps over 100 calls in flight). The scale row measures moto more than paved; "
        "the calls column and the max-in-flight column are the provider's share.",
        "- Without `--time-scale`, everything in moto is ready at once, so the apply's time beyond its calls is "
        "Terraform, moto and the provider's waiters (first poll after a delay).",
        f"- The provider build is `{res['build']}`; the machine has 2 cores, shared with other work.",
        "",
    ]
    path.write_text("\n".join(lines))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--provider", default=os.environ.get("PAVED_PROVIDER"),
                    help="provider binary (default: $PAVED_PROVIDER or target/<BUILD>/terraform-provider-paved)")
    ap.add_argument("--proxy", default=os.environ.get("PAVED_FAULT_PROXY"),
                    help="paved-fault-proxy binary (default: $PAVED_FAULT_PROXY or target/<BUILD>/paved-fault-proxy)")
    ap.add_argument("--venv", default=os.environ.get("PAVED_VENV") or str(ROOT / ".venv"))
    ap.add_argument("--n-list", default=os.environ.get("N_LIST", "1,10,50"),
                    help="comma-separated numbers of cluster+database pairs (default: $N_LIST or 1,10,50)")
    ap.add_argument("--plan-runs", type=int, default=int(os.environ.get("PLAN_RUNS", "3")))
    ap.add_argument("--plan-runs-large", type=int, default=int(os.environ.get("PLAN_RUNS_LARGE", "0")),
                    help="plan runs for 50 pairs or more (default: --plan-runs); moto makes each take minutes")
    ap.add_argument("--latency-ms", type=int, default=50)
    ap.add_argument("--db-key", choices=("own", "cluster"), default=os.environ.get("DB_KEY", "own"),
                    help="the database's KMS key: the one paved creates for it (own, default) or the cluster's")
    ap.add_argument("--replay", action="store_true",
                    help="record reads during the apply and a warm-up plan, replay them in the measured plans "
                         "(keeps moto out of the plan timings)")
    ap.add_argument("--wiring", choices=("network", "cluster"), default=os.environ.get("WIRING", "network"),
                    help="network (default): a paved_network both take; cluster: the database takes the "
                         "cluster's own network, and so waits for the whole cluster")
    ap.add_argument("--time-scale", type=float, default=None, metavar="N",
                    help="apply under the proxy's provisioning-time model, N modelled seconds per real second; "
                         "reports the apply in modelled minutes")
    ap.add_argument("--also-parallelism", type=int, default=None, metavar="N",
                    help="measure the plans again with terraform plan -parallelism=N, in the same run")
    ap.add_argument("--out", default=str(ROOT / "bench" / "results"))
    ap.add_argument("--command", default=None, help="the reproduce command to print in the report")
    args = ap.parse_args()

    build = os.environ.get("BUILD", "release")
    target = Path(os.environ.get("CARGO_TARGET_DIR", ROOT / "target"))
    provider = Path(args.provider) if args.provider else target / build / "terraform-provider-paved"
    proxy_bin = Path(args.proxy) if args.proxy else target / build / "paved-fault-proxy"
    for what, p in (("provider", provider), ("proxy", proxy_bin)):
        if not p.is_file():
            raise SystemExit(f"{what} binary {p} not found: cargo build first (or pass --{what})")
    provider, proxy_bin = provider.resolve(), proxy_bin.resolve()
    venv = Path(args.venv)
    if not (venv / "bin" / "terraform-1.15").exists():
        raise SystemExit(f"{venv}/bin/terraform-1.15 missing: run scripts/setup-venv.sh first")
    try:
        n_list = [int(x) for x in args.n_list.split(",") if x.strip()]
    except ValueError:
        raise SystemExit(f"N_LIST must be comma-separated integers, got {args.n_list!r}")
    if not n_list or any(n < 1 for n in n_list):
        raise SystemExit(f"N_LIST must hold positive integers, got {args.n_list!r}")
    if args.time_scale is not None and not args.time_scale > 0:
        raise SystemExit(f"--time-scale must be above 0, got {args.time_scale}")

    res = {
        "command": (args.command or f"N_LIST={','.join(map(str, n_list))} BUILD={build} bash bench/stacks.sh")
        if args.db_key == "own" else f"DB_KEY=cluster {args.command or 'bash bench/stacks.sh'}",
        "date": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "machine": machine_info(),
        "commit": git_commit(),
        "build": build,
        "provider_binary": os.path.relpath(provider, ROOT) if provider.is_relative_to(ROOT) else str(provider),
        "provider_size_bytes": provider.stat().st_size,
        "latency_ms": args.latency_ms,
        "db_key": args.db_key,
        "plan_runs": args.plan_runs,
        "sizes": [],
    }
    if args.replay:
        res["replay"] = True
    if args.time_scale:
        res["time_scale"] = args.time_scale
    res["wiring"] = args.wiring
    failed = False
    with tempfile.TemporaryDirectory(prefix="paved-stacks-") as t:
        bench = Bench(provider, proxy_bin, venv, args.latency_ms, Path(t), args.db_key,
                      replay=args.replay, time_scale=args.time_scale, wiring=args.wiring,
                      also_parallelism=args.also_parallelism)
        res["latency_ms"] = bench.latency_ms  # scaled down under the provisioning model
        try:
            for n in n_list:
                runs = args.plan_runs if n < 50 else (args.plan_runs_large or args.plan_runs)
                try:
                    res["sizes"].append(bench.size(n, runs))
                except Exception as e:  # noqa: BLE001 - report and go on with the next size
                    failed = True
                    res["sizes"].append({"n": n, "error": str(e)})
                    log(f"N={n} FAILED: {e}")
        finally:
            bench.close()
    res["targets"] = targets(res)

    write_results(res, Path(args.out), "stacks", write_markdown)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
