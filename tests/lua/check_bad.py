#!/usr/bin/env python3
"""check_bad.py NGT DIR: every DIR/*.lua is a wrong menu whose first line says
'-- expect: FILE:LINE: TEXT [... MORE TEXT]'; `ngt inspect` must fail (status 1) and print that on stderr."""
import glob, os, re, subprocess, sys

ngt, folder = sys.argv[1], sys.argv[2]
failed = 0
files = sorted(glob.glob(os.path.join(folder, "*.lua")))
assert files, "no bad scripts in " + folder
for path in files:
    first = open(path).readline()
    assert first.startswith("-- expect: "), path + ": first line must be '-- expect: ...'"
    want = first[len("-- expect: "):].rstrip("\n")
    p = subprocess.run([ngt, "inspect", path], capture_output=True, text=True)
    doubled = re.search(r"(\b[\w' ]+: )\1", p.stderr)  # "menu: menu: ..." says the same thing twice
    ok = p.returncode == 1 and all(w in p.stderr for w in want.split(" ... ")) and p.stdout == "" \
        and not doubled
    print(("ok   " if ok else "FAIL ") + os.path.basename(path) + ": " + p.stderr.strip())
    if not ok:
        print("     wanted status 1 and %r on stderr, got status %d" % (want, p.returncode))
        failed += 1
sys.exit(1 if failed else 0)
