#!/usr/bin/env python3
"""Check that the CI recipes in examples/ci do the flow they promise.

actionlint judges the GitHub workflow's syntax, expressions and action inputs; this
script judges what neither actionlint nor GitLab's schema can: that each recipe runs
fmt -check, validate and plan -out, keeps the plan as an artifact, and applies that
same saved plan only from the default branch behind an approval gate, one apply at a
time per stack, with OIDC credentials.

Usage: check_ci_recipes.py github|gitlab FILE
"""
import re
import sys

import yaml

problems = []


def need(cond, what):
    if not cond:
        problems.append(what)
    return cond


def scripts(job, *keys):
    out = []
    for k in keys:
        v = job.get(k) or []
        out += v if isinstance(v, list) else [v]
    return "\n".join(str(x) for x in out)


# --- GitLab --------------------------------------------------------------------------
def resolve(doc, name, seen=()):
    """A job with its `extends` merged in (hidden templates first, the job's keys win)."""
    job = doc.get(name)
    if not isinstance(job, dict):
        return {}
    merged = {}
    ext = job.get("extends", [])
    for parent in ext if isinstance(ext, list) else [ext]:
        if parent in seen:
            problems.append(f"extends cycle at {parent}")
            continue
        merged.update(resolve(doc, parent, seen + (name,)))
    merged.update({k: v for k, v in job.items() if k != "extends"})
    return merged


def gitlab(path):
    with open(path) as f:
        doc = yaml.safe_load(f)
    need(isinstance(doc, dict), "the file is not a YAML mapping")
    stages = doc.get("stages", [])
    need([s for s in stages if s in ("validate", "plan", "apply")] == ["validate", "plan", "apply"],
         f"stages {stages}: expected validate, plan, apply in that order")
    version = str((doc.get("variables") or {}).get("TF_VERSION", ""))
    need(re.fullmatch(r"\d+\.\d+\.\d+", version), f"TF_VERSION {version!r} is not an exact version")
    image = (doc.get("default") or {}).get("image", {})
    image = image.get("name", "") if isinstance(image, dict) else str(image)
    need("$TF_VERSION" in image or version in image, f"the image {image!r} does not pin TF_VERSION")

    jobs = {n: resolve(doc, n) for n in ("fmt", "validate", "plan", "apply")}
    for n, j in jobs.items():
        if need(j, f"no job {n}"):
            need(j.get("stage") in stages, f"job {n}: stage {j.get('stage')!r} is not in stages")
    fmt, val, plan, apply = (jobs[n] for n in ("fmt", "validate", "plan", "apply"))
    need(re.search(r"terraform fmt\b.*-check", scripts(fmt, "script")), "fmt does not run terraform fmt -check")
    need("terraform validate" in scripts(val, "script"), "validate does not run terraform validate")

    out = re.search(r"terraform plan\b.*-out[= ]\"?([^\s\"]+)", scripts(plan, "script"))
    if need(out, "plan does not run terraform plan -out=FILE"):
        planfile = out.group(1)
        rel = planfile.replace("$CI_PROJECT_DIR/", "").replace("${CI_PROJECT_DIR}/", "")
        paths = (plan.get("artifacts") or {}).get("paths", [])
        need(rel in paths, f"plan: the plan file {rel} is not in artifacts.paths {paths}")
        need(re.search(r"terraform apply\b.*" + re.escape(planfile), scripts(apply, "script")),
             f"apply does not apply the saved plan {planfile}")
    needs = [n if isinstance(n, str) else n.get("job") for n in apply.get("needs", [])]
    need("plan" in needs, "apply does not need plan (its artifact)")
    rules = apply.get("rules", [])
    need(any(r.get("when") == "manual" and "CI_DEFAULT_BRANCH" in str(r.get("if", "")) for r in rules),
         "apply has no rule `if: ... $CI_DEFAULT_BRANCH` with `when: manual`")
    need(not any(r.get("when") not in ("manual", "never") for r in rules),
         "apply may run without the manual gate")
    env = apply.get("environment")
    need(env and (env.get("name") if isinstance(env, dict) else env), "apply has no environment")
    need("$STACK" in str(apply.get("resource_group", "")) or apply.get("resource_group"),
         "apply has no resource_group")
    need(apply.get("interruptible") is False, "apply is interruptible")
    for n in ("plan", "apply"):
        j = jobs[n]
        tokens = j.get("id_tokens") or {}
        need(any((t or {}).get("aud") for t in tokens.values()), f"{n}: no id_tokens with an aud")
        need("AWS_ROLE_ARN" in (j.get("variables") or {}), f"{n}: no AWS_ROLE_ARN")
        need("AWS_WEB_IDENTITY_TOKEN_FILE" in scripts(j, "before_script", "script"),
             f"{n}: the ID token is not given to AWS (AWS_WEB_IDENTITY_TOKEN_FILE)")
        need("cd \"$TF_ROOT\"" in scripts(j, "before_script", "script"), f"{n}: does not cd to $TF_ROOT")
    return f"stages {stages}, jobs {list(jobs)}"


# --- GitHub --------------------------------------------------------------------------
def steps_text(job):
    return "\n".join(str(s.get("run", "")) for s in job.get("steps", []))


def uses(job, action):
    return [s for s in job.get("steps", []) if str(s.get("uses", "")).startswith(action + "@")]


def github(path):
    with open(path) as f:
        doc = yaml.safe_load(f)
    on = doc.get(True, doc.get("on"))  # YAML 1.1 reads a bare `on` as true
    need(isinstance(on, dict) and "pull_request" in on, "not run on pull_request")
    need(isinstance(on, dict) and "main" in ((on.get("push") or {}).get("branches") or []),
         "not run on push to main")
    env = doc.get("env", {})
    need(re.fullmatch(r"\d+\.\d+\.\d+", str(env.get("TF_VERSION", ""))), "env.TF_VERSION is not an exact version")
    need("TF_WORKING_DIR" in env, "no env.TF_WORKING_DIR")
    jobs = doc.get("jobs", {})
    plan = next((j for j in jobs.values() if re.search(r"terraform plan\b", steps_text(j))), None)
    apply = next((j for j in jobs.values() if re.search(r"terraform apply\b", steps_text(j))), None)
    if not (need(plan, "no job runs terraform plan") and need(apply, "no job runs terraform apply")):
        return ""
    text = steps_text(plan)
    for what, pattern in [("fmt -check", r"terraform fmt\b.*-check"), ("init", r"terraform init\b"),
                          ("validate", r"terraform validate\b"),
                          ("plan -out", r"terraform plan\b.*-out=(\S+)"),
                          ("show -no-color", r"terraform show -no-color")]:
        need(re.search(pattern, text), f"the plan job does not run terraform {what}")
    need(uses(plan, "actions/upload-artifact"), "the plan job uploads no artifact")
    comment = uses(plan, "actions/github-script")
    need((comment and re.search(r"createComment|updateComment", comment[0].get("with", {}).get("script", "")))
         or "gh pr comment" in text, "the plan job posts no PR comment")
    need(plan.get("permissions", {}).get("pull-requests") == "write", "the plan job cannot write PR comments")
    for name, j in (("plan", plan), ("apply", apply)):
        tf = uses(j, "hashicorp/setup-terraform")
        need(tf and "TF_VERSION" in str(tf[0].get("with", {}).get("terraform_version", "")),
             f"{name}: hashicorp/setup-terraform does not pin env.TF_VERSION")
        aws = uses(j, "aws-actions/configure-aws-credentials")
        need(aws and aws[0].get("with", {}).get("role-to-assume"), f"{name}: no OIDC role-to-assume")
        need(j.get("permissions", {}).get("id-token") == "write", f"{name}: no id-token: write")
        need("TF_WORKING_DIR" in str(j.get("defaults", {}).get("run", {}).get("working-directory", "")),
             f"{name}: the working directory is not env.TF_WORKING_DIR")
        need(j.get("concurrency", {}).get("group"), f"{name}: no concurrency group")
    env_ = apply.get("environment")
    need((env_.get("name") if isinstance(env_, dict) else env_) == "production",
         "apply is not gated by environment: production")
    need("push" in str(apply.get("if", "")), "apply is not limited to pushes")
    need(apply.get("concurrency", {}).get("cancel-in-progress") is False, "apply may be cancelled in progress")
    need(uses(apply, "actions/download-artifact"), "apply does not download the plan artifact")
    planfile = re.search(r"-out=(\S+)", text)
    need(planfile and re.search(r"terraform apply\b.*\b" + re.escape(planfile.group(1)) + r"\b", steps_text(apply)),
         "apply does not apply the saved plan")
    return f"jobs {list(jobs)}"


if __name__ == "__main__":
    kind, path = sys.argv[1], sys.argv[2]
    summary = {"github": github, "gitlab": gitlab}[kind](path)
    for p in problems:
        print(f"FAIL: {path}: {p}", file=sys.stderr)
    print(f"{path}: {summary}, {len(problems)} problems")
    sys.exit(1 if problems else 0)
