-- ngt/cmd_compile.lua: `ngt compile MODEL.onnx -o model.c [--target avx512|avx2|generic]`: the
-- genc compiler's C (and model.h beside it), for a host to build without ngt (docs/genc.md).
local core = require "ngt.core"

local HELP = [[
usage: ngt compile MODEL.onnx -o OUT.c [--target avx512|avx2|generic|native] [--prefix NAME]
  Compiles an ONNX model to one plain C file and its header (OUT.h). The functions are
  NAME_infer, NAME_workspace_size, NAME_tile and NAME_target; NAME defaults to OUT's base name.
  --target   instruction set of the emitted kernels (default: this CPU's widest, "native");
             build avx512 with -mavx512f -mavx512vl -mavx512dq -mavx2 -mfma, avx2 with -mavx2 -mfma.
]]

local args_ = require "ngt.args"
local eprint = args_.eprint

-- API: run(list) -> exit status. Example: run{ "models/fad.onnx", "-o", "fad.c" }
return function(list)
   local opt, pos = args_.parse(list, { output = 1, target = 1, prefix = 1 })
   if not opt then eprint("ngt compile: ", pos, " (ngt compile --help)") return 2 end
   if opt.help then io.write(HELP) return 0 end
   if #pos ~= 1 or not opt.output then
      eprint("ngt compile: expected MODEL.onnx -o OUT.c (ngt compile --help)") return 2
   end
   local out = opt.output
   local base = out:gsub("%.c$", "")
   local prefix = opt.prefix or base:match("([^/]+)$"):gsub("[^%w_]", "_")
   if prefix:match("^%d") then prefix = "m_" .. prefix end
   local e = core.err()
   local ok, merr = core.cdef_module("ngt_genc.h")
   if not ok then eprint("ngt compile: ", merr) return 1 end
   if core.C.ngt_genc_compile_file(pos[1], opt.target or "native", prefix, out, base .. ".h", e) < 0 then
      eprint("ngt compile: ", core.msg(e)) return 1
   end
   return 0
end
