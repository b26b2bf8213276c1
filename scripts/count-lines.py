#!/usr/bin/env python3
"""Lines of non-test Rust per stack folder at a git revision (fakes, harnesses and
`mod tests` blocks left out): the figure the stack-core notes quote.

Usage: python3 scripts/count-lines.py REV [REV...]"""
import subprocess,sys,re
def count(rev, d):
    files=subprocess.run(["git","ls-tree","-r","--name-only",rev,d],capture_output=True,text=True).stdout.split()
    n=0
    for f in files:
        if not f.endswith(".rs"): continue
        b=f.split("/")[-1]
        if b in ("fake.rs","resource_tests.rs","tests.rs","harness.rs","testing.rs","schema_testing.rs"): continue
        t=subprocess.run(["git","show",f"{rev}:{f}"],capture_output=True,text=True).stdout
        i=t.find("#[cfg(test)]\nmod tests")
        if i>=0: t=t[:i]
        n+=t.count("\n")
    return n
for rev in sys.argv[1:]:
    print(rev, {d:count(rev,d) for d in ["src/resources/ha_cluster","src/resources/managed_database","crates/paved-core/src/stack","src/ports","src/cloud","crates/paved-core/src/schema"]})
