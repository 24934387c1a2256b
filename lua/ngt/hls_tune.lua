-- ngt/hls_tune.lua: `ngt hls tune`: greedy per layer from the input, the narrowest result, weight
-- (bias alike) and accumulator widths keeping a target agreement with float (docs/hls.md).
local json = require "ngt.json"

local _M = {}

-- The precision configuration is read by the hls module's C reader (modules/hls/ngt_hls.h, the
-- one the backend uses: a .lua file is a table literal, never executed), walked into a table.
local ffi = require "ffi"
local core = require "ngt.core"

local C
local function hls()
   if not C then
      assert(core.cdef_module("ngt_hls.h"))
      C = core.C
   end
   return C
end

local function to_table(c)
   local H = hls()
   local kind = H.ngt_hls_cfg_kind(c)
   if kind == H.NGT_HLS_CFG_BOOL then return H.ngt_hls_cfg_num(c) ~= 0 end
   if kind == H.NGT_HLS_CFG_NUM then return H.ngt_hls_cfg_num(c) end
   if kind == H.NGT_HLS_CFG_STR then return ffi.string(H.ngt_hls_cfg_string(c)) end
   if kind == H.NGT_HLS_CFG_NULL then return nil end
   local t = {}
   for i = 0, H.ngt_hls_cfg_len(c) - 1 do
      local item = H.ngt_hls_cfg_item(c, i)
      if kind == H.NGT_HLS_CFG_LIST then
         t[#t + 1] = to_table(item)
      else
         local k = H.ngt_hls_cfg_key(c, i)
         if k ~= nil then t[ffi.string(k)] = to_table(item) end
      end
   end
   return t
end

-- API: the precision configuration as a table: JSON text, a .json or a .lua file, read as the hls
-- backend reads it.
function _M.load_config(s)
   local H, e = hls(), core.err()
   local c = H.ngt_hls_cfg_load(s, e)
   if c == nil then error(core.msg(e), 0) end
   local ok, t = pcall(to_table, c)
   H.ngt_hls_cfg_free(c)
   if not ok then error(t, 0) end
   return t
end

local function copy(t)
   if type(t) ~= "table" then return t end
   local o = {}
   for k, v in pairs(t) do o[k] = copy(v) end
   return o
end

-- Integer bits (signed) holding every value in [lo, hi].
local function int_bits(lo, hi)
   local m, i = math.max(-lo, hi, 0), 1
   while 2 ^ (i - 1) <= m do i = i + 1 end
   return i
end

-- Parses --target: { kind = "maxdiff" | "agree", value }.
local function parse_target(s)
   local k, v = (s or ""):match("^%s*(%a+)%s*[<>]=%s*([%d.eE+-]+)%s*$")
   v = tonumber(v)
   if k == "maxdiff" and s:find("<=", 1, true) and v then return { kind = k, value = v } end
   if k == "agree" and s:find(">=", 1, true) and v then return { kind = k, value = v } end
   return nil
end

-- Layers the tuner narrows, and which of their types.
local TUNED = { Input = { "result" }, Dense = { "weight", "accum", "result" },
                Conv = { "weight", "accum", "result" }, ReLU = { "result" },
                Sigmoid = { "result" }, Tanh = { "result" }, BatchNorm = { "result" },
                Add = { "result" }, Concat = { "result" } }

function _M.run(H, model, opts)
   local eprint = H.eprint
   local target = parse_target(opts.target)
   if not target then
      eprint("ngt hls tune: --target expects 'maxdiff<=X' or 'agree>=F', got '",
             tostring(opts.target), "'")
      return 2
   end
   local thr = opts.threshold and tonumber(opts.threshold)
   local ok, base = pcall(_M.load_config, opts.precision)
   if not ok then eprint("ngt hls tune: ", opts.precision, ": ", base) return 1 end
   local st, err = H.describe(model, opts.precision)
   if not st then eprint("ngt hls tune: ", err) return 1 end
   local no = tonumber(st.out_size)
   local inp
   inp, err = H.input(model, opts, tonumber(st.in_size))
   if not inp then eprint("ngt hls tune: ", err) return 1 end
   local ref
   ref, err = H.reference(model, inp, no)
   if not ref then eprint("ngt hls tune: float reference (ref backend): ", err) return 1 end
   -- rounding and overflow modes: those of the model default ("fixed<16,6,RND,SAT>" -> ",RND,SAT")
   local mp = base.Model and base.Model.Precision
   local def = type(mp) == "table" and mp.default or mp or "fixed<16,6>"
   local modes = tostring(def):match("^%a+<%s*%d+%s*,%s*%-?%d+%s*(,.*)>$") or ""
   local function ty(w, i) return string.format("fixed<%d,%d%s>", w, i, modes) end

   local function config(over)
      local c = copy(base)
      c.LayerName = c.LayerName or {}
      for name, p in pairs(over) do
         local l = c.LayerName[name] or {}
         if type(l.Precision) ~= "table" then
            l.Precision = l.Precision and { result = l.Precision } or {}
         end
         for k, v in pairs(p) do l.Precision[k] = v end
         c.LayerName[name] = l
      end
      return c
   end
   local evals = 0
   local function measure(over)
      evals = evals + 1
      local out, e = H.run(model, json.encode(config(over)), inp, no, false)
      if not out then return nil, e end
      return H.agreement(out, ref, inp.n, no, thr)
   end
   local function meets(a)
      if target.kind == "maxdiff" then return a.maxdiff <= target.value end
      return (thr and a.decision or a.argmax) >= target.value
   end

   -- 1. ranges: a probe at fixed<24,12> with lossless Dense/Conv sums
   local probe = {}
   for k = 0, st.n_layers - 1 do
      local l = st.layer[k]
      local kind, name = H.ffi_string(l.kind), H.ffi_string(l.name)
      if TUNED[kind] then
         probe[name] = (kind == "Dense" or kind == "Conv")
                       and { weight = ty(24, 12), bias = ty(24, 12), accum = "auto", result = "auto" }
                       or { result = ty(24, 12) }
      end
   end
   local pout, pst = H.run(model, json.encode(config(probe)), inp, no, true)
   if not pout then eprint("ngt hls tune: probe run: ", pst) return 1 end
   -- 2. the widest start: 20 fractional bits (at most 32 in all), lossless accumulators
   local layers, over = {}, {}
   for k = 0, pst.n_layers - 1 do
      local l = pst.layer[k]
      local kind, name = H.ffi_string(l.kind), H.ffi_string(l.name)
      if TUNED[kind] then
         if l.overflows > 0 then
            eprint("ngt hls tune: layer '", name, "': values beyond +-2048 (probe at fixed<24,12>)")
            return 1
         end
         local e = { name = name, kind = kind, keys = TUNED[kind], int = {}, frac = {} }
         e.int.result = int_bits(l.seen_min, l.seen_max)
         if kind == "Dense" or kind == "Conv" then
            e.int.weight = int_bits(l.weight_min, l.weight_max)
            e.int.bias = int_bits(l.bias_min, l.bias_max)
            e.int.accum = e.int.result + 1
         end
         layers[#layers + 1] = e
         over[name] = {}
         for _, key in ipairs(e.keys) do
            if key ~= "accum" then
               e.frac[key] = math.min(20, 32 - e.int[key])
               over[name][key] = ty(e.int[key] + e.frac[key], e.int[key])
            end
         end
         if e.int.bias then
            over[name].bias = ty(math.min(32, e.int.bias + e.frac.weight), e.int.bias)
            over[name].accum = "auto"
         end
      end
   end
   local a0, e0 = measure(over)
   if not a0 then eprint("ngt hls tune: ", e0) return 1 end
   if not meets(a0) then
      eprint(string.format("ngt hls tune: the target %s is not met even at the widest types " ..
                           "(max |diff| %.6g, agreement %.4f)", opts.target, a0.maxdiff,
                           thr and a0.decision or a0.argmax))
      return 1
   end
   -- 3. greedy, layer after layer from the input: the fewest fractional bits that still meet it
   local best = a0
   for _, e in ipairs(layers) do
      for _, key in ipairs(e.keys) do
         local function set(f)
            if key == "accum" then
               over[e.name].accum = ty(e.int.accum + f, e.int.accum)
            else
               over[e.name][key] = ty(e.int[key] + f, e.int[key])
               if key == "weight" then
                  over[e.name].bias = ty(math.max(1, math.min(32, e.int.bias + f)), e.int.bias)
               end
            end
         end
         local hi = e.frac[key]
         if key == "accum" then -- at least the products' fraction (inputs have 20 bits at most)
            hi = 20 + e.frac.weight
            set(hi)
            local a = measure(over) -- partial sums may need more integer bits (SAT modes)
            while not (a and meets(a)) and e.int.accum < e.int.result + 12 do
               e.int.accum = e.int.accum + 1
               set(hi)
               a = measure(over)
            end
         end
         local lo = math.max(0, 1 - e.int[key])
         while lo < hi do
            local mid = math.floor((lo + hi) / 2)
            set(mid)
            local a = measure(over)
            if a and meets(a) then hi, best = mid, a else lo = mid + 1 end
         end
         set(hi)
         e.frac[key] = hi
      end
   end
   local final = measure(over)
   if not final or not meets(final) then
      eprint("ngt hls tune: the tuned configuration misses the target (not monotonic?)") return 1
   end
   best = final
   return _M.write(H, model, opts, base, config(over), best, layers, thr, inp, evals)
end

-- Total bits (weights, biases and one event's values) and multipliers of a configuration.
local function cost(H, model, text)
   local st = H.describe(model, text)
   if not st then return nil end
   local bits, mults = 0, {}
   for k = 0, st.n_layers - 1 do
      local l = st.layer[k]
      bits = bits + tonumber(l.n_weights) * l.weight_width + tonumber(l.n_biases) * l.bias_width +
             tonumber(l.size) * l.width
      if tonumber(l.multipliers) > 0 and H.ffi_string(l.kind) ~= "BatchNorm" then
         mults[#mults + 1] = { layer = H.ffi_string(l.name), count = tonumber(l.multipliers),
                               bits = string.format("%dx%d", l.in_width, l.weight_width),
                               __order = { "layer", "count", "bits" } }
      end
   end
   return bits, mults
end

function _M.write(H, model, opts, base, tuned, ag, layers, thr, inp, evals)
   local text = json.encode(tuned)
   local bits, mults = cost(H, model, text)
   local bits0 = cost(H, model, json.encode(base))
   local out = opts.output or (model:gsub("%.onnx$", "") .. "_tuned.json")
   tuned.NgtTune = { target = opts.target, threshold = thr, events = inp.n,
                     maxdiff = ag.maxdiff, agree = thr and ag.decision or ag.argmax,
                     total_bits = bits, base_total_bits = bits0, multipliers = mults,
                     __order = { "target", "threshold", "events", "maxdiff", "agree",
                                 "total_bits", "base_total_bits", "multipliers" } }
   local f, err = io.open(out, "w")
   if not f then H.eprint("ngt hls tune: ", err) return 1 end
   f:write(json.encode(tuned), "\n")
   f:close()
   io.write(string.format("tuned %s to %s on %d events (%d trials): max |diff| %.6g, " ..
                          "agreement %.4f\n", model, opts.target, inp.n, evals, ag.maxdiff,
                          thr and ag.decision or ag.argmax))
   for _, e in ipairs(layers) do
      local p = tuned.LayerName[e.name].Precision
      io.write(string.format("  %-14s result %-24s weight %-24s accum %s\n", e.name,
                             tostring(p.result or "-"), tostring(p.weight or "-"),
                             tostring(p.accum or "-")))
   end
   io.write(string.format("total bits %d (from %d with %s)\n", bits, bits0, opts.precision))
   for _, m in ipairs(mults) do
      io.write(string.format("  multipliers %-14s %6d x %s bits\n", m.layer, m.count, m.bits))
   end
   io.write("written: ", out, "\n")
   if opts.json then
      local jf, jerr = io.open(opts.json, "w")
      if not jf then H.eprint("ngt hls tune: ", jerr) return 1 end
      jf:write(json.encode(tuned.NgtTune), "\n")
      jf:close()
   end
   return 0
end

return _M
