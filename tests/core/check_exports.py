#!/usr/bin/env python3
# check_exports.py: libngt exports its public API and nothing else. The functions declared in the
# public headers (ngt.h and the modules' ngt_NAME.h beside it) must equal the functions that
# `nm -D --defined-only libngt.so` lists: an internal helper leaking out, or a public function
# left hidden, fails (core_exports test).
import glob, os, re, subprocess, sys

lib, include = sys.argv[1], sys.argv[2]
declared = set()
for h in glob.glob(os.path.join(include, "*.h")):
    if os.path.basename(h) == "ngt_npy.h":
        continue  # the ngt binary's, not libngt's
    text = re.sub(r"/\*.*?\*/", "", open(h).read(), flags=re.S)
    text = re.sub(r"^\s*#.*$", "", text, flags=re.M)
    text = re.sub(r'extern "C" \{|^\}$', "", text, flags=re.M)  # the C++ guard's braces
    text = re.sub(r"typedef[^;]*;", "", text)  # function-pointer typedefs are not functions
    text = re.sub(r"\{[^{}]*\}", "", re.sub(r"\{[^{}]*\}", "", text))  # struct bodies
    for m in re.finditer(r"\b(ngt_\w+)\s*\([^;{]*\)\s*;", text):
        declared.add(m.group(1))
out = subprocess.run(["nm", "-D", "--defined-only", lib], check=True, capture_output=True,
                     text=True).stdout
exported = {l.split()[-1] for l in out.splitlines() if l.split()[1] in "TtWiI"}
leaked, hidden = sorted(exported - declared), sorted(declared - exported)
assert len(declared) > 50, "parsed too few declarations (%d): the parser is broken" % len(declared)
if leaked or hidden:
    sys.exit("exported but not public: %s\npublic but not exported: %s" % (leaked, hidden))
print("libngt exports exactly its %d public functions" % len(declared))
