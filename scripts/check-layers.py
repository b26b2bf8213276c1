#!/usr/bin/env python3
"""Holds the code of src/ and crates/paved-core/src/ to paved's layers: every import
points down, no resource imports another, and no two files import each other
(directly or round a circle).

The bottom layers (framework, schema, diag, profiles, validate, stack) live in the
crate `paved-core`, which depends on no resource, port, adapter or SDK: the compiler
holds them under everything else. This check holds the rules the compiler cannot
see inside one crate: the order within paved-core, and within the provider crate
(adapters never import a resource, resources never import each other, no circles).

Run by scripts/test.sh before the build; exits 1 naming each broken rule with the
file, the line and the import. The table below is the architecture: change it only
with a reason in the commit message.

Layers, top to bottom (an arrow may only point to a module in the allowed set):
  cli, docs, provider (wiring)  ->  plugin -> protocol -> framework/schema/diag
  resources, data_sources       ->  delivery, ports, stack, framework, schema, diag, profiles, validate
                                    (one exception, FAKE_MAY_IMPORT below: a resource's
                                    test-only scripted fake may import an adapter's
                                    pure inventory module)
  delivery (Kubernetes objects) ->  ports, stack
  cloud (adapters)              ->  ports, stack            (never a resource)
  ports                         ->  stack, framework, schema, diag, profiles
  stack (the stack core)        ->  framework, schema, diag, profiles, validate
  framework, schema, diag, protocol, plugin know no cloud.
"""
import os
import re
import sys

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
SRC = os.path.join(ROOT, "src")
CORE = os.path.join(ROOT, "crates", "paved-core", "src")

FOUNDATION = {"diag", "schema", "framework", "logging", "phases", "proto"}
ALLOWED = {
    "diag": set(),
    "schema": {"diag"},
    "framework": {"schema", "diag"},
    "logging": {"phases"},
    "phases": set(),
    "proto": set(),
    "profiles": set(),
    "validate": {"diag", "profiles"},
    "stack": {"framework", "schema", "diag", "profiles", "validate"},
    "ports": {"stack", "framework", "schema", "diag", "profiles"},
    "cloud": {"ports", "stack"},
    "delivery": {"ports", "stack"},
    "resources": {"delivery", "ports", "stack", "framework", "schema", "diag", "profiles", "validate"},
    "data_sources": {"ports", "stack", "framework", "schema", "diag", "profiles", "validate"},
    "protocol": {"framework", "schema", "diag", "proto", "logging", "phases"},
    "plugin": {"protocol", "proto", "logging", "phases"},
    "provider": {"cloud", "ports", "stack", "resources", "data_sources", "protocol",
                 "framework", "schema", "diag", "profiles", "validate", "logging"},
    "diagram": {"provider", "framework"},
    "docs": {"diagram", "provider", "protocol", "framework", "schema", "diag", "profiles"},
    "cli": {"plugin", "protocol", "provider", "docs", "logging", "phases"},
    "lib": None,  # src/lib.rs declares the modules
    "main": None,
}

# The one import of an adapter by a resource: a test-only scripted fake (a file
# named fake.rs under src/resources/, declared `#[cfg(test)] mod fake;`) may import
# an adapter's pure inventory module (`cloud::<cloud>::<area>::inventory`, e.g.
# `cloud::aws::cluster::inventory`), because it scripts that cloud: the components
# its stacks consist of are the ones that adapter lists. Any other import of
# `cloud` by a resource, fake or not, is refused.
FAKE_MAY_IMPORT = "cloud::<cloud>::<area>::inventory"
FAKE_DECL_RE = re.compile(r"#\[cfg\(test\)\]\s*(?:pub(?:\([\w:]+\))?\s+)?mod\s+fake\s*;")

PATH_RE = re.compile(r"\b(crate|super|self)((?:::\w+)+)")
USE_RE = re.compile(r"^\s*(?:pub(?:\([\w:]+\))?\s+)?use\s+([^;]+);", re.M | re.S)


def strip_comments(text):
    """The code without // comments (doc comments included) and string literals."""
    text = re.sub(r'"(?:\\.|[^"\\])*"', lambda m: '""' + "\n" * m.group(0).count("\n"), text)
    return "\n".join(line.split("//", 1)[0] for line in text.split("\n"))


def module_of(rel):
    """src-relative file -> module path as a list (`resources/x/mod.rs` -> [resources, x])."""
    parts = rel[:-3].split("/")
    if parts[-1] in ("mod", "lib", "main"):
        parts = parts[:-1]
    return parts


def file_of(mod_parts, files):
    """The file defining the longest prefix of `mod_parts`."""
    for n in range(len(mod_parts), 0, -1):
        p = "/".join(mod_parts[:n])
        for cand in (p + ".rs", p + "/mod.rs"):
            if cand in files:
                return cand
    return None


def expand_use(tree):
    """A use tree (`a::{b, c::{d}}`) as the list of its paths."""
    tree = re.sub(r"\s+", "", tree)
    m = re.match(r"^(.*?)::\{(.*)\}$", tree)
    if not m:
        return [tree.split(" as ")[0]]
    head, body = m.groups()
    out, depth, cur = [], 0, ""
    for ch in body:
        if ch == "{":
            depth += 1
        elif ch == "}":
            depth -= 1
        if ch == "," and depth == 0:
            out.append(cur)
            cur = ""
        else:
            cur += ch
    if cur:
        out.append(cur)
    paths = []
    for item in out:
        if item == "self":
            paths.append(head)
        else:
            paths.extend(expand_use(head + "::" + item))
    return paths


def inline_modules(code):
    """For each offset of `code`, the inline modules (`mod tests { ... }`) it is in:
    a sorted list of (start, end, name)."""
    spans, open_mods, depth = [], [], 0
    for m in re.finditer(r"\bmod\s+(\w+)\s*\{|\{|\}", code):
        tok = m.group(0)
        if tok.startswith("mod"):
            depth += 1
            open_mods.append((depth, m.start(), m.group(1)))
        elif tok == "{":
            depth += 1
        else:
            if open_mods and open_mods[-1][0] == depth:
                _, start, name = open_mods.pop()
                spans.append((start, m.end(), name))
            depth -= 1
    return spans


def module_at(here, spans, offset):
    """The module path at `offset`: the file's module and the inline modules around it."""
    inner = sorted((s for s in spans if s[0] <= offset < s[1]), key=lambda s: s[0])
    return here + [s[2] for s in inner]


def absolute(path, here):
    """`crate::a::b`, `super::x` or `self::x` seen in module `here` -> [a, b] / [...]."""
    parts = path.split("::")
    mod = list(here)
    if parts[0] == "crate":
        return parts[1:]
    while parts and parts[0] in ("super", "self"):
        if parts[0] == "super":
            mod = mod[:-1]
        parts = parts[1:]
    return mod + parts


def fake_may_import(rel, target, files, src):
    """Whether `rel` is a resource's test-only scripted fake and `target` an
    adapter's inventory module: the exception FAKE_MAY_IMPORT describes."""
    parts = rel.split("/")
    if parts[0] != "resources" or parts[-1] != "fake.rs" or len(parts) < 3:
        return False
    if len(target) < 4 or target[0] != "cloud" or target[3] != "inventory":
        return False
    parent = file_of(module_of(rel)[:-1], files)
    if parent is None:
        return False
    with open(os.path.join(src, parent), encoding="utf-8") as f:
        return bool(FAKE_DECL_RE.search(f.read()))


def main(src=None):
    src = src or SRC
    files = {}
    for dirpath, _, names in os.walk(src):
        for name in names:
            if name.endswith(".rs"):
                full = os.path.join(dirpath, name)
                files[os.path.relpath(full, src).replace(os.sep, "/")] = full
    problems = []
    edges = {}
    for rel, full in sorted(files.items()):
        here = module_of(rel)
        top = here[0] if here else rel[:-3]
        code = strip_comments(open(full, encoding="utf-8").read())
        spans = inline_modules(code)
        paths = []
        for m in USE_RE.finditer(code):
            line = code.count("\n", 0, m.start()) + 1
            for p in expand_use(m.group(1)):
                if p.startswith(("crate", "super", "self")):
                    paths.append((line, m.start(), p))
        for m in PATH_RE.finditer(code):
            line = code.count("\n", 0, m.start()) + 1
            paths.append((line, m.start(), m.group(1) + m.group(2)))
        for line, offset, p in paths:
            target = absolute(p, module_at(here, spans, offset))
            if target[: len(here)] == here and len(target) > len(here) \
                    and file_of(target, files) == rel:
                continue  # a path inside this file's own module
            if not target:
                continue
            t_top = target[0]
            allowed = ALLOWED.get(top)
            if t_top != top and allowed is not None and t_top in ALLOWED and t_top not in allowed \
                    and not fake_may_import(rel, target, files, src):
                problems.append(f"src/{rel}:{line}: {top} may not import {t_top} ({p})")
            if top in ("resources", "data_sources") and t_top == top and len(here) > 1 \
                    and len(target) > 1 and target[1] != here[1]:
                problems.append(
                    f"src/{rel}:{line}: {'/'.join(here[:2])} imports another {top[:-1]} "
                    f"({p}); shared code belongs in the stack core or a port")
            dest = file_of(target, files)
            if dest and dest != rel:
                # A folder's mod.rs and the files under it are one module: a child
                # using its parent's helpers is not a circle.
                dest_mod = module_of(dest)
                if dest.endswith(("mod.rs", "lib.rs")) and here[: len(dest_mod)] == dest_mod:
                    continue
                if rel.endswith("mod.rs") and dest_mod[: len(here)] == here:
                    continue
                edges.setdefault(rel, {}).setdefault(dest, (line, p))
    # circles between files
    state, stack, seen_cycles = {}, [], set()

    def visit(n):
        state[n] = 1
        stack.append(n)
        for m in sorted(edges.get(n, {})):
            if state.get(m) == 1:
                cyc = stack[stack.index(m):]
                key = frozenset(cyc)
                if key not in seen_cycles:
                    seen_cycles.add(key)
                    steps = [f"src/{a} -> src/{b} ({edges[a][b][1]})"
                             for a, b in zip(cyc, cyc[1:] + [cyc[0]])]
                    problems.append("import circle: " + "; ".join(steps))
            elif state.get(m) is None:
                visit(m)
        stack.pop()
        state[n] = 2

    sys.setrecursionlimit(10000)
    for n in sorted(edges):
        if n not in state:
            visit(n)
    for top in sorted({module_of(r)[0] for r in files if module_of(r)}):
        if top not in ALLOWED:
            problems.append(f"src/{top}: a new top-level module; give it a place in ALLOWED")
    if problems:
        print("Layer rules broken (scripts/check-layers.py):")
        for p in dict.fromkeys(problems):
            print("  " + p)
        return 1
    n_edges = sum(len(v) for v in edges.values())
    print(f"layers: {len(files)} files, {n_edges} imports between files, every rule holds")
    return 0


def self_test():
    """Runs the check on small trees that each break one rule (and one that breaks
    none), so a check that stopped seeing a rule fails here."""
    import contextlib
    import io
    import tempfile

    base = {
        "lib.rs": "pub mod stack;\npub mod ports;\npub mod cloud;\npub mod resources;\npub mod framework;\n",
        "framework/mod.rs": "pub struct OpContext;\n",
        "stack/mod.rs": "use crate::framework::OpContext;\n",
        "ports/mod.rs": "use crate::stack;\n",
        "cloud/mod.rs": "use crate::ports;\n",
        "resources/mod.rs": "pub mod a;\npub mod b;\n",
        "resources/a/mod.rs": "use crate::ports;\n",
        "resources/b/mod.rs": "use crate::stack;\n",
    }
    adapter = {
        "cloud/mod.rs": "pub mod aws;\n",
        "cloud/aws/mod.rs": "pub mod db;\n",
        "cloud/aws/db/mod.rs": "pub mod inventory;\npub struct Backend;\n",
        "cloud/aws/db/inventory.rs": "use crate::ports;\n",
    }
    fake = {
        "resources/a/mod.rs": "#[cfg(test)]\nmod fake;\n",
        "resources/a/fake.rs": "use crate::cloud::aws::db::inventory;\n"
                               "fn f() { crate::cloud::aws::db::inventory::components(); }\n",
    }
    cases = {
        "clean": ({}, None),
        "adapter imports a resource": (
            {"cloud/mod.rs": "use crate::resources::a;\n"}, "cloud may not import resources"),
        "framework imports ports": (
            {"framework/mod.rs": "use crate::ports::Cloud;\n"}, "framework may not import ports"),
        "resource imports another": (
            {"resources/b/mod.rs": "use crate::resources::a::thing;\n"}, "imports another resource"),
        "circle": (
            {"stack/mod.rs": "pub mod x;\npub mod y;\n", "stack/x.rs": "use super::y::Y;\n",
             "stack/y.rs": "use super::x::X;\n"}, "import circle"),
        "new top-level module": ({"newthing/mod.rs": "\n"}, "a new top-level module"),
        "resource imports an adapter's inventory": (
            {**adapter, "resources/a/mod.rs": "use crate::cloud::aws::db::inventory;\n"},
            "resources may not import cloud"),
        "resource imports an adapter": (
            {**adapter, "resources/a/mod.rs": "use crate::cloud::aws::db::Backend;\n"},
            "resources may not import cloud"),
        "fake imports an adapter's other parts": (
            {**adapter, **fake, "resources/a/fake.rs": "use crate::cloud::aws::db::Backend;\n"},
            "resources may not import cloud"),
        "fake not test-only imports an adapter's inventory": (
            {**adapter, **fake, "resources/a/mod.rs": "mod fake;\n"},
            "resources may not import cloud"),
        "test-only fake imports an adapter's inventory": ({**adapter, **fake}, None),
    }
    failed = []
    for name, (changes, expected) in cases.items():
        with tempfile.TemporaryDirectory() as tmp:
            for rel, text in {**base, **changes}.items():
                path = os.path.join(tmp, rel)
                os.makedirs(os.path.dirname(path), exist_ok=True)
                with open(path, "w", encoding="utf-8") as f:
                    f.write(text)
            out = io.StringIO()
            with contextlib.redirect_stdout(out):
                code = main(tmp)
            text = out.getvalue()
            ok = (code == 0) if expected is None else (code == 1 and expected in text)
            if not ok:
                failed.append(f"{name}: exit {code}, output: {text.strip()}")
    if failed:
        print("check-layers self-test failed:")
        for f in failed:
            print("  " + f)
        return 1
    print(f"check-layers self-test: {len(cases)} trees judged as expected")
    return 0


if __name__ == "__main__":
    if sys.argv[1:] == ["--self-test"]:
        sys.exit(self_test())
    sys.exit(max(main(SRC), main(CORE)))
