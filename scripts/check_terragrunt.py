#!/usr/bin/env python3
"""Check the Terragrunt recipe in examples/terragrunt without a terragrunt binary.

1. Every .hcl file parses (python-hcl2).
2. Every unit (a folder with terragrunt.hcl) resolves: its include paths, its
   terraform.source (a folder of .tf files) and its dependencies' config_path (units);
   each dependency has mock_outputs naming real outputs of the dependency's module and
   mock_outputs_allowed_terraform_commands covering validate and plan; the root's
   remote_state is an S3 backend whose key comes from path_relative_to_include()
   (unique per unit) with a lock (use_lockfile or dynamodb_table); the root generates
   a paved provider block with default_tags.
3. The unit's inputs, merged over the root's as Terragrunt merges them (shallow, the
   unit's win) and with dependency.X.outputs.Y taken from X's mock_outputs, name only
   variables the module declares and give every variable without a default.
4. With --terraform: each unit's module is copied to a scratch folder with the
   generated provider.tf and terraform.tfvars.json and planned (terraform init, plan).
   The generated backend.tf is left out (no S3 here): state stays local.

Expressions are evaluated by a small evaluator that knows the functions these files
use (find_in_parent_folders, read_terragrunt_config, path_relative_to_include,
get_env) and refuses anything else, so a new construct fails loudly here rather than
being skipped.
"""
import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

import hcl2
from hcl2.utils import SerializationOptions

OPTS = SerializationOptions(with_comments=False, preserve_heredocs=False)


class CheckError(Exception):
    pass


def parse(path):
    with open(path) as f:
        try:
            return hcl2.load(f, serialization_options=OPTS)
        except Exception as e:  # the parser raises several kinds
            raise CheckError(f"{path}: does not parse: {e}") from e


def blocks(doc, kind):
    """Labelled blocks of one kind as {label: body}; unlabelled as {None: body}."""
    out = {}
    for entry in doc.get(kind, []):
        if isinstance(entry, dict) and entry.get("__is_block__"):
            out[None] = {k: v for k, v in entry.items() if k != "__is_block__"}
            continue
        for label, body in entry.items():
            body = {k: v for k, v in body.items() if k != "__is_block__"}
            out[json.loads(label)] = body
    return out


def block(doc, kind):
    b = blocks(doc, kind)
    return b.get(None) if b else None


# --- a small HCL expression evaluator ----------------------------------------------
TOKEN = re.compile(r'\s*(?:(?P<str>"(?:[^"\\]|\\.)*")|(?P<num>-?\d+(?:\.\d+)?)'
                   r'|(?P<id>[A-Za-z_][A-Za-z0-9_-]*)|(?P<op>[.\[\](),]))')
ESCAPES = {"n": "\n", "t": "\t", "r": "\r", '"': '"', "\\": "\\"}


def unescape(s):
    return re.sub(r"\\(u[0-9a-fA-F]{4}|.)",
                  lambda m: chr(int(m.group(1)[1:], 16)) if len(m.group(1)) == 5
                  else ESCAPES.get(m.group(1), "\\" + m.group(1)), s)


class Scope:
    def __init__(self, unit_dir, root_dir, locals_=None, deps=None):
        self.unit_dir = unit_dir      # the unit being evaluated (the including one)
        self.root_dir = root_dir      # the folder of the included root config
        self.locals = locals_ or {}
        self.deps = deps or {}        # name -> mock outputs


class Evaluator:
    def __init__(self, scope):
        self.scope = scope

    # values as python-hcl2 gives them: dicts, lists, numbers, bools, strings that
    # are '"template"' or '${expression}'
    def value(self, v):
        if isinstance(v, dict):
            return {k: self.value(x) for k, x in v.items() if k != "__is_block__"}
        if isinstance(v, list):
            return [self.value(x) for x in v]
        if isinstance(v, str):
            if v.startswith('"') and v.endswith('"') and len(v) >= 2:
                return self.template(v[1:-1])
            if v.startswith("${") and v.endswith("}"):
                return self.expr(v[2:-1])
            if v in ("true", "false", "null"):
                return {"true": True, "false": False, "null": None}[v]
            raise CheckError(f"cannot evaluate {v!r}")
        return v

    def template(self, s):
        parts, i, literal = [], 0, []
        while i < len(s):
            if s.startswith("$${", i):
                literal.append("${")
                i += 3
            elif s.startswith("${", i):
                if literal:
                    parts.append(unescape("".join(literal)))
                    literal = []
                j, depth, quoted = i + 2, 1, False
                while j < len(s) and depth:
                    c = s[j]
                    if quoted:
                        if c == "\\":
                            j += 1
                        elif c == '"':
                            quoted = False
                    elif c == '"':
                        quoted = True
                    elif c == "{":
                        depth += 1
                    elif c == "}":
                        depth -= 1
                    j += 1
                if depth:
                    raise CheckError(f"unclosed interpolation in {s!r}")
                parts.append(self.expr(unescape(s[i + 2:j - 1]) if '\\"' in s[i + 2:j - 1]
                                       else s[i + 2:j - 1]))
                i = j
            else:
                literal.append(s[i])
                i += 1
        if literal:
            parts.append(unescape("".join(literal)))
        if len(parts) == 1 and not isinstance(parts[0], str):
            return parts[0]
        out = []
        for p in parts:
            if isinstance(p, (dict, list)) or p is None:
                raise CheckError(f"cannot interpolate {p!r} into a string in {s!r}")
            out.append(json.dumps(p) if isinstance(p, bool) else str(p))
        return "".join(out)

    def expr(self, text):
        toks = []
        pos = 0
        text = text.strip()
        while pos < len(text):
            m = TOKEN.match(text, pos)
            if not m or m.end() == pos:
                raise CheckError(f"cannot evaluate expression {text!r} (at {text[pos:]!r})")
            kind = m.lastgroup
            toks.append((kind, m.group(kind)))
            pos = m.end()
            while pos < len(text) and text[pos].isspace():
                pos += 1
        self.toks, self.i, self.text = toks, 0, text
        v = self.postfix()
        if self.i != len(self.toks):
            raise CheckError(f"cannot evaluate expression {text!r}")
        return v

    def peek(self):
        return self.toks[self.i] if self.i < len(self.toks) else (None, None)

    def take(self, op=None):
        t = self.peek()
        if t[0] is None or (op is not None and t[1] != op):
            raise CheckError(f"cannot evaluate expression {self.text!r}: expected {op}")
        self.i += 1
        return t

    def postfix(self):
        v = self.primary()
        while True:
            kind, tok = self.peek()
            if tok == ".":
                self.take(".")
                _, name = self.take()
                v = self.index(v, name)
            elif tok == "[":
                self.take("[")
                key = self.postfix()
                self.take("]")
                v = self.index(v, key)
            else:
                return v

    def index(self, v, key):
        try:
            return v[key]
        except (KeyError, IndexError, TypeError):
            raise CheckError(f"{self.text!r}: no {key!r} in {json.dumps(v)[:200]}") from None

    def primary(self):
        kind, tok = self.take()
        if kind == "str":
            return self.template(tok[1:-1])
        if kind == "num":
            return float(tok) if "." in tok else int(tok)
        if kind != "id":
            raise CheckError(f"cannot evaluate expression {self.text!r}")
        if tok in ("true", "false", "null"):
            return {"true": True, "false": False, "null": None}[tok]
        if self.peek()[1] == "(":
            self.take("(")
            args = []
            while self.peek()[1] != ")":
                args.append(self.postfix())
                if self.peek()[1] == ",":
                    self.take(",")
            self.take(")")
            return self.call(tok, args)
        if tok == "local":
            return self.scope.locals
        if tok == "dependency":
            return {name: {"outputs": mocks} for name, mocks in self.scope.deps.items()}
        raise CheckError(f"unknown name {tok!r} in {self.text!r}")

    def call(self, fn, args):
        s = self.scope
        if fn == "find_in_parent_folders":
            name = args[0] if args else "terragrunt.hcl"
            d = os.path.dirname(s.unit_dir)
            while True:
                candidate = os.path.join(d, name)
                if os.path.exists(candidate):
                    return candidate
                if os.path.dirname(d) == d:
                    raise CheckError(f"find_in_parent_folders({name!r}) from {s.unit_dir}: not found")
                d = os.path.dirname(d)
        if fn == "read_terragrunt_config":
            path = args[0] if os.path.isabs(args[0]) else os.path.join(s.unit_dir, args[0])
            doc = parse(path)
            inner = Scope(s.unit_dir, os.path.dirname(path))
            inner.locals = eval_locals(doc, inner)
            return {"locals": inner.locals,
                    "inputs": Evaluator(inner).value(doc.get("inputs", {}))}
        if fn == "path_relative_to_include":
            return os.path.relpath(s.unit_dir, s.root_dir)
        if fn == "get_terragrunt_dir":
            return s.unit_dir
        if fn == "get_env":
            return os.environ.get(args[0], args[1] if len(args) > 1 else "")
        raise CheckError(f"function {fn}() is not known to this checker")


def eval_locals(doc, scope):
    raw = block(doc, "locals") or {}
    done = {}
    pending = dict(raw)
    scope.locals = done
    # locals may refer to each other in any order: evaluate until no progress
    while pending:
        progress = False
        for k, v in list(pending.items()):
            try:
                done[k] = Evaluator(scope).value(v)
            except CheckError:
                continue
            del pending[k]
            progress = True
        if not progress:
            k, v = next(iter(pending.items()))
            Evaluator(scope).value(v)  # raises the real error
    return done


# --- the checks ------------------------------------------------------------------
def tf_blocks(module_dir, kind):
    """Names of the variable/output blocks in a module, with their bodies."""
    out = {}
    for f in sorted(os.listdir(module_dir)):
        if f.endswith(".tf"):
            doc = parse(os.path.join(module_dir, f))
            out.update(blocks(doc, kind))
    return out


def check_unit(unit_dir, top):
    rel = os.path.relpath(unit_dir, top)
    path = os.path.join(unit_dir, "terragrunt.hcl")
    doc = parse(path)
    where = f"{rel}/terragrunt.hcl"

    includes = blocks(doc, "include")
    if "root" not in includes:
        raise CheckError(f"{where}: no include \"root\" block")
    base = Scope(unit_dir, unit_dir)
    root_path = Evaluator(base).value(includes["root"]["path"])
    if not os.path.isfile(root_path):
        raise CheckError(f"{where}: include path {root_path} is not a file")
    root = parse(root_path)
    root_scope = Scope(unit_dir, os.path.dirname(root_path))
    eval_locals(root, root_scope)

    tf = block(doc, "terraform") or {}
    if "source" not in tf:
        raise CheckError(f"{where}: no terraform {{ source = ... }}")
    source = Evaluator(base).value(tf["source"])
    if re.match(r"^[a-z0-9+]+::|^[a-z]+://|^git@", source) or not source.startswith("."):
        raise CheckError(f"{where}: source {source!r} is not a relative path")
    module_dir = os.path.normpath(os.path.join(unit_dir, source))
    if not os.path.isdir(module_dir) or not any(f.endswith(".tf") for f in os.listdir(module_dir)):
        raise CheckError(f"{where}: source {source} is not a folder of .tf files")

    deps = {}
    for name, dep in blocks(doc, "dependency").items():
        cfg = Evaluator(base).value(dep.get("config_path", '""'))
        dep_dir = os.path.normpath(os.path.join(unit_dir, cfg))
        if not os.path.isfile(os.path.join(dep_dir, "terragrunt.hcl")):
            raise CheckError(f"{where}: dependency {name}: config_path {cfg} is not a unit")
        if "mock_outputs" not in dep:
            raise CheckError(f"{where}: dependency {name} has no mock_outputs")
        allowed = Evaluator(base).value(dep.get("mock_outputs_allowed_terraform_commands", []))
        if not {"validate", "plan"} <= set(allowed):
            raise CheckError(f"{where}: dependency {name}: mock_outputs_allowed_terraform_commands "
                             f"is {allowed}, expected validate and plan")
        if "apply" in allowed:
            raise CheckError(f"{where}: dependency {name}: mocks allowed on apply")
        mocks = Evaluator(base).value(dep["mock_outputs"])
        dep_doc = parse(os.path.join(dep_dir, "terragrunt.hcl"))
        dep_src = Evaluator(Scope(dep_dir, dep_dir)).value(block(dep_doc, "terraform")["source"])
        dep_outputs = tf_blocks(os.path.normpath(os.path.join(dep_dir, dep_src)), "output")
        unknown = sorted(set(mocks) - set(dep_outputs))
        if unknown:
            raise CheckError(f"{where}: dependency {name}: mock_outputs {unknown} are not outputs "
                             f"of {os.path.relpath(dep_dir, top)}'s module ({sorted(dep_outputs)})")
        deps[name] = mocks

    # inputs: the root's, then the unit's over them (include's default shallow merge)
    root_inputs = Evaluator(root_scope).value(root.get("inputs", {}))
    unit_inputs = Evaluator(Scope(unit_dir, unit_dir, deps=deps)).value(doc.get("inputs", {}))
    inputs = {**root_inputs, **unit_inputs}
    variables = tf_blocks(module_dir, "variable")
    extra = sorted(set(inputs) - set(variables))
    if extra:
        raise CheckError(f"{where}: inputs {extra} are not variables of {source}")
    missing = sorted(v for v, body in variables.items() if "default" not in body and v not in inputs)
    if missing:
        raise CheckError(f"{where}: variables {missing} of {source} have no input and no default")

    # the root's remote state and provider, as evaluated for this unit
    rs = block(root, "remote_state")
    if not rs:
        raise CheckError("the root config has no remote_state block")
    rs = Evaluator(root_scope).value(rs)
    if rs.get("backend") != "s3":
        raise CheckError(f"remote_state backend is {rs.get('backend')!r}, expected s3")
    cfg = rs.get("config", {})
    want_key = f"{os.path.relpath(unit_dir, os.path.dirname(root_path))}/terraform.tfstate"
    if cfg.get("key") != want_key:
        raise CheckError(f"{where}: state key {cfg.get('key')!r}, expected {want_key!r}")
    if not (cfg.get("use_lockfile") is True or cfg.get("dynamodb_table")):
        raise CheckError("remote_state has no lock (use_lockfile = true or dynamodb_table)")
    for k in ("bucket", "region"):
        if not cfg.get(k):
            raise CheckError(f"remote_state config has no {k}")
    gen = blocks(root, "generate").get("provider")
    if not gen:
        raise CheckError("the root config has no generate \"provider\" block")
    gen = Evaluator(root_scope).value(gen)
    contents = gen.get("contents", "")
    if not re.search(r'provider\s+"paved"', contents) or "default_tags" not in contents:
        raise CheckError("generate \"provider\" does not write a paved provider with default_tags")
    return {"rel": rel, "module": module_dir, "inputs": inputs, "provider": (gen["path"], contents),
            "key": cfg["key"], "deps": sorted(deps)}


def plan_unit(unit, terraform, scratch, env):
    work = os.path.join(scratch, unit["rel"].replace("/", "__"))
    shutil.copytree(unit["module"], work)
    name, contents = unit["provider"]
    with open(os.path.join(work, name), "w") as f:
        f.write(contents)
    with open(os.path.join(work, "terraform.tfvars.json"), "w") as f:
        json.dump(unit["inputs"], f, indent=2)
    for args in (["init", "-input=false", "-no-color"],
                 ["plan", "-input=false", "-no-color", "-lock=false"]):
        r = subprocess.run([terraform, *args], cwd=work, env=env, capture_output=True, text=True)
        if r.returncode != 0:
            raise CheckError(f"{unit['rel']}: terraform {args[0]} failed:\n{r.stdout}\n{r.stderr}")
    summary = re.search(r"Plan: .*", r.stdout)
    return summary.group(0) if summary else "no changes"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("top", help="examples/terragrunt")
    ap.add_argument("--terraform", help="plan every unit with this Terraform")
    ap.add_argument("--scratch", help="folder for the planned copies (default: a temporary one)")
    a = ap.parse_args()
    top = os.path.abspath(a.top)

    failures = []
    hcl_files = []
    for d, _, files in os.walk(top):
        if ".terraform" in d or ".terragrunt-cache" in d:
            continue
        hcl_files += [os.path.join(d, f) for f in files if f.endswith(".hcl")]
    for f in sorted(hcl_files):
        try:
            parse(f)
        except CheckError as e:
            failures.append(str(e))
    print(f"parsed {len(hcl_files)} .hcl files")

    units, keys = [], {}
    unit_dirs = sorted(os.path.dirname(f) for f in hcl_files
                       if os.path.basename(f) == "terragrunt.hcl")
    if not unit_dirs:
        failures.append(f"no units (terragrunt.hcl) under {top}")
    for d in unit_dirs:
        try:
            u = check_unit(d, top)
        except CheckError as e:
            failures.append(str(e))
            continue
        if u["key"] in keys:
            failures.append(f"{u['rel']} and {keys[u['key']]} share the state key {u['key']}")
        keys[u["key"]] = u["rel"]
        units.append(u)
        print(f"  {u['rel']}: source {os.path.relpath(u['module'], top)}, "
              f"dependencies {u['deps'] or 'none'}, state {u['key']}")

    if a.terraform and not failures:
        scratch = a.scratch or tempfile.mkdtemp(prefix="paved-tg-")
        env = dict(os.environ, TF_IN_AUTOMATION="1")
        try:
            for u in units:
                t = time.monotonic()
                try:
                    s = plan_unit(u, a.terraform, scratch, env)
                    print(f"  planned {u['rel']}: {s} ({time.monotonic() - t:.1f}s)")
                except CheckError as e:
                    failures.append(str(e))
        finally:
            if not a.scratch:
                shutil.rmtree(scratch, ignore_errors=True)

    failures = list(dict.fromkeys(failures))  # a broken file fails every unit reading it
    for f in failures:
        print(f"FAIL: {f}", file=sys.stderr)
    print(f"terragrunt: {len(units)} units, {len(failures)} problems")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
