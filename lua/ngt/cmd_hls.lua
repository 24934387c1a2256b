-- ngt/cmd_hls.lua: `ngt hls profile|tune MODEL.onnx --precision CFG ...`: per-layer value ranges,
-- overflow and rounding counts and agreement with float (ref backend); narrowest per-layer types.
local core = require "ngt.core"
require "ngt.npyio" -- .npy inputs (cdefs ngt_npy.h)
local hls_ok, hls_err = core.cdef_module("ngt_hls.h") -- the hls module's tool API
local C, ffi = core.C, core.ffi

local HELP = [[
usage: ngt hls profile MODEL.onnx --precision CFG [--input IN.npy] [--events N] [--threshold T]
                       [--json FILE]
       ngt hls tune MODEL.onnx --precision CFG --target 'maxdiff<=0.01' | 'agree>=0.999'
                    [--threshold T] [--input IN.npy] [--events N] [-o TUNED.json] [--json FILE]

  profile  runs the model on the hls backend, every assignment checked step by step, and prints
           per layer: the result type, its range, the range of the values seen, overflows
           (wrapped or saturated), rounded values, accumulator overflows; then the agreement of
           the outputs with float (the ref backend): max |diff|, identical argmax, identical
           decisions at --threshold.
  tune     finds, layer after layer from the input, the narrowest result, weight (and bias) and
           accumulator widths that keep the target agreement with float, starting from wide
           types; writes the precision configuration (-o, default MODEL_tuned.json) with its
           total bits and multipliers.

  --precision CFG  hls4ml-style configuration: JSON text, a .json or a .lua file (docs/hls.md);
                   tune keeps its other settings (tables, softmax) and its rounding modes
  --input IN.npy   events (default: models/<name>.input.npy beside the model, when it exists)
  --events N       the first N events only (default: all)
  --threshold T    decisions: output > T (agree then compares decisions, else argmax)
  --target EXPR    maxdiff<=X (max |hls - float| over all outputs) or agree>=F (fraction of
                   events with identical decisions: argmax, or every output against --threshold)
  --json FILE      the profile (or the tuning summary) as JSON
]]

local _M = {}

local args_ = require "ngt.args"
local eprint, parse, exists = args_.eprint, args_.parse, args_.exists
_M.eprint = eprint
_M.ffi_string = ffi.string

-- API: the events: --input, else models/<name>.input.npy beside the model. Returns
-- { data = float*, n = events, keep = npy } or nil, message.
function _M.input(model, opts, in_size)
   local path = opts.input
   if not path then
      local guess = model:gsub("%.onnx$", "") .. ".input.npy"
      if not exists(guess) then
         return nil, "no --input given and no " .. guess .. " beside the model"
      end
      path = guess
   end
   local a, e = ffi.gc(ffi.new("ngt_npy"), C.ngt_npy_free), core.err()
   if C.ngt_npy_read(path, a, e) < 0 then return nil, path .. ": " .. core.msg(e) end
   local per = 1
   for k = 1, a.rank - 1 do per = per * tonumber(a.shape[k]) end
   if a.dtype ~= C.NGT_F32 or a.rank < 1 or per ~= in_size then
      return nil, string.format("%s: expected float32 events of %d values, got %s with %d", path,
                                in_size, ffi.string(C.ngt_dtype_name(a.dtype)), per)
   end
   local n = tonumber(a.shape[0])
   if opts.events then
      local want = tonumber(opts.events)
      if not want or want < 1 or want ~= math.floor(want) then
         return nil, "--events expects a number >= 1"
      end
      n = math.min(n, want)
   end
   if n < 1 then return nil, path .. ": no events" end
   return { data = ffi.cast("const float *", a.data), n = n, keep = a, path = path }
end

-- API: the model's per-layer description and sizes (n = 0). Returns stats or nil, message.
function _M.describe(model, precision)
   local st, e = ffi.new("ngt_hls_stats"), core.err()
   if C.ngt_hls_profile(model, precision, nil, 0, nil, st, e) < 0 then return nil, core.msg(e) end
   return st
end

-- API: hls outputs of n events (float[n * out_size]); with_stats: the exact path and stats.
function _M.run(model, precision, inp, out_size, with_stats)
   local out = ffi.new("float[?]", inp.n * out_size)
   local st = with_stats and ffi.new("ngt_hls_stats") or nil
   local e = core.err()
   if C.ngt_hls_profile(model, precision, inp.data, inp.n, out, st, e) < 0 then
      return nil, core.msg(e)
   end
   return out, st
end

-- API: the float reference: the ref backend through the registry.
function _M.reference(model, inp, out_size)
   local e = core.err()
   local reg = ffi.gc(C.ngt_registry_new(e), C.ngt_registry_free)
   if reg == nil then return nil, core.msg(e) end
   if C.ngt_registry_load(reg, "model", "ref", model, nil, e) < 0 then return nil, core.msg(e) end
   local out = ffi.new("float[?]", inp.n * out_size)
   local ip, op = ffi.new("const void *[1]", { inp.data }), ffi.new("void *[1]", { out })
   if C.ngt_registry_infer(reg, "model", ip, op, inp.n, e) < 0 then return nil, core.msg(e) end
   return out
end

-- API: agreement of hls outputs a with float b: { maxdiff, argmax (fraction of events with the
-- same argmax), decision (fraction with every output on the same side of threshold, or nil) }.
function _M.agreement(a, b, n, no, threshold)
   local maxdiff, same_arg, same_dec = 0, 0, 0
   for e = 0, n - 1 do
      local o = e * no
      local ia, ib, dec = 0, 0, true
      for i = 0, no - 1 do
         local x, y = a[o + i], b[o + i]
         local d = math.abs(x - y)
         if d > maxdiff or d ~= d then maxdiff = d ~= d and math.huge or d end
         if x > a[o + ia] then ia = i end
         if y > b[o + ib] then ib = i end
         if threshold and (x > threshold) ~= (y > threshold) then dec = false end
      end
      if ia == ib then same_arg = same_arg + 1 end
      if dec then same_dec = same_dec + 1 end
   end
   return { maxdiff = maxdiff, argmax = same_arg / n, decision = threshold and same_dec / n or nil }
end

local function g(v) return string.format("%.6g", v) end

local function layer_rows(st)
   local rows = {}
   for k = 0, st.n_layers - 1 do
      local l = st.layer[k]
      rows[#rows + 1] = {
         name = ffi.string(l.name), kind = ffi.string(l.kind), types = ffi.string(l.types),
         width = l.width, integer = l.integer, signed = l.is_signed == 1,
         type_min = l.type_min, type_max = l.type_max, seen_min = l.seen_min,
         seen_max = l.seen_max, values = tonumber(l.values), overflows = tonumber(l.overflows),
         rounded = tonumber(l.rounded), acc_overflows = tonumber(l.acc_overflows),
         multipliers = tonumber(l.multipliers), in_width = l.in_width,
         weight_width = l.weight_width, acc_width = l.acc_width,
         __order = { "name", "kind", "types", "width", "integer", "signed", "type_min",
                     "type_max", "seen_min", "seen_max", "values", "overflows", "rounded",
                     "acc_overflows", "multipliers", "in_width", "weight_width", "acc_width" },
      }
   end
   return rows
end
_M.layer_rows = layer_rows

local function profile(model, opts)
   local st, err = _M.describe(model, opts.precision)
   if not st then eprint("ngt hls profile: ", err) return 1 end
   local no = tonumber(st.out_size)
   local inp
   inp, err = _M.input(model, opts, tonumber(st.in_size))
   if not inp then eprint("ngt hls profile: ", err) return 1 end
   local out
   out, st = _M.run(model, opts.precision, inp, no, true)
   if not out then eprint("ngt hls profile: ", st) return 1 end
   local ref
   ref, err = _M.reference(model, inp, no)
   if not ref then eprint("ngt hls profile: float reference (ref backend): ", err) return 1 end
   local thr = opts.threshold and tonumber(opts.threshold)
   local ag = _M.agreement(out, ref, inp.n, no, thr)
   local rows = layer_rows(st)
   io.write(string.format("%s, %d events from %s\n", model, inp.n, inp.path))
   io.write(string.format("%-14s %-9s %-26s %-25s %-25s %9s %7s %9s\n", "layer", "kind",
                          "result type", "type range", "seen range", "overflow", "rounded",
                          "acc ovfl"))
   for _, r in ipairs(rows) do
      local t = string.format("%s<%d,%d>", r.signed and "fixed" or "ufixed", r.width, r.integer)
      io.write(string.format("%-14s %-9s %-26s %-25s %-25s %9d %6.1f%% %9d\n", r.name, r.kind, t,
         "[" .. g(r.type_min) .. ", " .. g(r.type_max) .. "]",
         "[" .. g(r.seen_min) .. ", " .. g(r.seen_max) .. "]", r.overflows,
         r.values > 0 and 100 * r.rounded / r.values or 0, r.acc_overflows))
   end
   io.write(string.format("against float (ref): max |diff| %s, argmax agrees on %.4f of events",
                          g(ag.maxdiff), ag.argmax))
   if ag.decision then
      io.write(string.format(", decisions (> %s) on %.4f", g(thr), ag.decision))
   end
   io.write("\n")
   if opts.json then
      local doc = { model = model, precision = opts.precision, events = inp.n, layers = rows,
                    agreement = { maxdiff = ag.maxdiff, argmax = ag.argmax, decision = ag.decision,
                                  threshold = thr },
                    __order = { "model", "precision", "events", "layers", "agreement" } }
      local f, ferr = io.open(opts.json, "w")
      if not f then eprint("ngt hls profile: ", ferr) return 1 end
      f:write(require("ngt.json").encode(doc), "\n")
      f:close()
   end
   return 0
end

-- API: run(list) -> exit status. Example: run{ "profile", "models/fad.onnx", "--precision", "c.lua" }
function _M.main(list)
   local sub = list[1]
   if sub == nil or sub == "--help" or sub == "-h" or sub == "help" then
      io.write(HELP)
      return sub == nil and 2 or 0
   end
   if not hls_ok then
      io.stderr:write("ngt hls: ", hls_err, "\n")
      return 1
   end
   local rest = {}
   for i = 2, #list do rest[#rest + 1] = list[i] end
   local opts, pos = parse(rest, { precision = 1, input = 1, events = 1, threshold = 1,
                                   json = 1, target = 1, output = 1 })
   if not opts then eprint("ngt hls: ", pos) return 2 end
   if opts.help then io.write(HELP) return 0 end
   if sub ~= "profile" and sub ~= "tune" then
      eprint("ngt hls: unknown command '", sub, "' (profile or tune; ngt hls --help)") return 2
   end
   if #pos ~= 1 or not opts.precision then
      eprint("ngt hls ", sub, ": expected MODEL.onnx --precision CFG (ngt hls --help)") return 2
   end
   args_.number(opts, "threshold", nil, { real = true }) -- usage errors: status 2
   args_.number(opts, "events", nil, { min = 1 })
   if sub == "profile" then return profile(pos[1], opts) end
   return require("ngt.hls_tune").run(_M, pos[1], opts)
end

return _M.main
