#!/usr/bin/env python3
"""check_json.py LUAJIT: ngt's one JSON encoder (lua/ngt/json.lua, which ngt.lua also uses for a
precision table) writes valid JSON that reads back as the same strings: every byte 0..127 (control
characters, quotes, backslashes), UTF-8 text, keys that need escaping, numeric keys."""
import json
import subprocess
import sys

LUAJIT = sys.argv[1]
CODE = r"""
package.path = "lua/?.lua;" .. package.path
local json = require "ngt.json"
local all = {}
for b = 0, 127 do all[#all + 1] = string.char(b) end
io.write(json.encode {
   all = table.concat(all), utf8 = "caf\195\169 \226\130\172",
   ['we"ird\tkey\\'] = { "a\nb", "\r\0\127" }, nested = { [1] = "x", [2] = "y" },
   map = { [10] = "ten", k = true, n = 2.5, i = -7 },
})
"""
out = subprocess.run([LUAJIT, "-e", CODE], capture_output=True, check=True).stdout
v = json.loads(out.decode("utf-8"))  # raises on invalid JSON (Lua's %q would write \9, \0, ...)
assert v["all"] == "".join(chr(b) for b in range(128)), v["all"]
assert v["utf8"] == "café €", v["utf8"]
assert v['we"ird\tkey\\'] == ["a\nb", "\r\x00\x7f"], v
assert v["nested"] == ["x", "y"] and v["map"] == {"10": "ten", "k": True, "n": 2.5, "i": -7}, v
print("json.lua: escapes and values read back exactly")
