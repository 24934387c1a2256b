-- ngt/source.lua: the built-in event source: deterministic for a seed, events drawn one after the
-- other (so batch size and thread count never change them), physics-like by column name:
--   fad_in f32[77]    as tools/make_models.py draws it: four object collections of 19 pT slots
--                     (Poisson multiplicities 6, 1.5, 1, 0.7; pT ~ pT^-4 above 20 GeV, in units
--                     of 100 GeV, leading first) and the MET last
--   hits   f32[1][216] Poisson(6) noise hits U(0.05,1), a track segment of 6-24 channels U(0.3,1)
--                     in half of the events
--   collections       Poisson multiplicity by name (jet 6, mu 0.7, e/eg 1.5, tau 0.7), pT falling
--                     as pT^-4 above a threshold, eta ~ N(0, 1.6) in +-4.7, phi U(-pi, pi)
--   met               exponential, mean 30 GeV; run/lumi/event: the identity
-- Other columns get U(0,1) floats or small integers.
local core = require "ngt.core"
local ffi, C = core.ffi, core.C

local _M = {}

local floor, log, sqrt, cos, exp, min = math.floor, math.log, math.sqrt, math.cos, math.exp, math.min

-- Park-Miller minimal standard generator: exact in doubles, JIT-friendly.
local function rng(seed)
   local x = (seed % 2147483646) + 1
   local r = {}
   function r.u() -- U(0, 1)
      x = (x * 48271) % 2147483647
      return x / 2147483647
   end
   function r.poisson(mean)
      local l, k, p = exp(-mean), 0, 1
      repeat
         k = k + 1
         p = p * r.u()
      until p <= l
      return k - 1
   end
   function r.power(pt_min, alpha, cap)
      return min(pt_min * (1 - r.u()) ^ (-1 / (alpha - 1)), cap * pt_min)
   end
   function r.normal()
      return sqrt(-2 * log(1 - r.u())) * cos(2 * math.pi * r.u())
   end
   return r
end

local coll_params = { jet = { 6.0, 20 }, jets = { 6.0, 20 }, mu = { 0.7, 3 }, muon = { 0.7, 3 },
                      e = { 1.5, 5 }, eg = { 1.5, 5 }, egamma = { 1.5, 5 }, tau = { 0.7, 10 } }

local function sort_desc(a, n)
   for i = 1, n - 1 do
      local v, j = a[i], i - 1
      while j >= 0 and a[j] < v do
         a[j + 1] = a[j]
         j = j - 1
      end
      a[j + 1] = v
   end
end

-- API: a source for this built menu: src:fill(batch) fills up to capacity events and returns the
-- number filled (0 when done). opts: events, seed, lumi_events, run.
function _M.new(menu, opts)
   local r = rng(opts.seed or 1)
   local schema = menu.schema
   local ncol = C.ngt_schema_ncolumns(schema)
   local run_i, lumi_i, ev_i = ffi.new("int[1]"), ffi.new("int[1]"), ffi.new("int[1]")
   C.ngt_schema_identity(schema, run_i, lumi_i, ev_i)
   local fillers, scalars = {}, {}
   local tmp = ffi.new("double[20]")
   local per_lumi = opts.lumi_events or 100000
   local run_no = opts.run or 1
   local total = opts.events or 100000
   local seq = 0
   local colls = {}
   for i = 0, ncol - 1 do
      local info = C.ngt_schema_column(schema, i)
      local name = ffi.string(info.name)
      local vt = ffi.typeof(core.ctype[ffi.string(C.ngt_dtype_name(info.dtype))] .. " *")
      local elems = tonumber(info.elems)
      local isfloat = info.dtype == C.NGT_F32 or info.dtype == C.NGT_F64
      if info.kind == C.NGT_COL_SCALAR then
         scalars[#scalars + 1] = { i = i, t = vt, name = name, lumi = i == lumi_i[0], run = i == run_i[0] }
      elseif info.kind == C.NGT_COL_COUNT then
         local cname = name:match("^(.*)%.n$")
         local p = coll_params[cname] or { 2.0, 10 }
         colls[cname] = colls[cname] or { fields = {} }
         local cc = colls[cname]
         cc.count, cc.mean, cc.ptmin, cc.t = i, p[1], p[2], vt
      elseif info.kind == C.NGT_COL_FIELD then
         local cname, field = name:match("^(.*)%.([^.]+)$")
         colls[cname] = colls[cname] or { fields = {} }
         table.insert(colls[cname].fields, { i = i, field = field, t = vt, max = elems, isfloat = isfloat })
      elseif i == ev_i[0] or i == run_i[0] or i == lumi_i[0] then
         fillers[#fillers + 1] = { i = i, t = vt, fn = function(p, e)
            if i == ev_i[0] then p[e] = seq + 1
            elseif i == run_i[0] then p[e] = run_no
            else p[e] = 1 + floor(seq / per_lumi) end
         end }
      elseif name == "fad_in" and elems == 77 then
         fillers[#fillers + 1] = { i = i, t = vt, fn = function(p, e)
            local base = e * 77
            for c = 0, 3 do
               local mult = min(r.poisson(({ 6.0, 1.5, 1.0, 0.7 })[c + 1]), 19)
               for k = 0, 18 do tmp[k] = r.power(0.2, 4.0, 50.0) end
               sort_desc(tmp, 19)
               for k = 0, 18 do p[base + c * 19 + k] = k < mult and tmp[k] or 0 end
            end
            p[base + 76] = -0.3 * log(1 - r.u())
         end }
      elseif (name == "hits" or name == "mdt_in") and elems == 216 then
         fillers[#fillers + 1] = { i = i, t = vt, fn = function(p, e)
            local base = e * 216
            for k = 0, 215 do p[base + k] = 0 end
            for _ = 1, r.poisson(6.0) do p[base + floor(r.u() * 216)] = 0.05 + 0.95 * r.u() end
            if r.u() < 0.5 then
               local len = 6 + floor(r.u() * 19)
               local start = floor(r.u() * (216 - len + 1))
               for k = start, start + len - 1 do p[base + k] = 0.3 + 0.7 * r.u() end
            end
         end }
      elseif name == "met" and elems == 1 then
         fillers[#fillers + 1] = { i = i, t = vt, fn = function(p, e) p[e] = -30 * log(1 - r.u()) end }
      else
         fillers[#fillers + 1] = { i = i, t = vt, fn = function(p, e)
            for k = 0, elems - 1 do
               p[e * elems + k] = isfloat and r.u() or floor(r.u() * 4)
            end
         end }
      end
   end
   local cnames = {}
   for cname in pairs(colls) do cnames[#cnames + 1] = cname end
   table.sort(cnames) -- pairs() order varies between runs (randomised string hashing)
   for _, cname in ipairs(cnames) do
      local cc = colls[cname]
      local fields = cc.fields
      fillers[#fillers + 1] = { i = cc.count, t = cc.t, fn = function(p, e, b)
         local max = fields[1].max
         local n = min(r.poisson(cc.mean), max)
         p[e] = n
         for k = 0, n - 1 do tmp[k] = r.power(cc.ptmin, 4.0, 50.0) end
         sort_desc(tmp, n)
         for _, f in ipairs(fields) do
            local q = ffi.cast(f.t, C.ngt_batch_column(b, f.i))
            local base = e * max
            for k = 0, max - 1 do
               local v = 0
               if k < n then
                  if f.field == "pt" then v = tmp[k]
                  elseif f.field == "eta" then v = math.max(-4.7, math.min(4.7, 1.6 * r.normal()))
                  elseif f.field == "phi" then v = math.pi * (2 * r.u() - 1)
                  elseif f.field == "m" or f.field == "mass" then v = cname:match("^mu") and 0.106 or 5 * r.u()
                  elseif f.field == "charge" then v = r.u() < 0.5 and -1 or 1
                  elseif f.field == "btag" then v = r.u() < 0.2 and 1 or 0
                  else v = f.isfloat and r.u() or floor(r.u() * 4) end
               end
               q[base + k] = v
            end
         end
      end }
   end

   local src = { events = total }
   -- API: fills batch b; returns events filled (0 at the end).
   function src:fill(b)
      local cap = C.ngt_batch_capacity(b)
      local n = min(cap, total - seq)
      if n <= 0 then return 0 end
      if lumi_i[0] >= 0 then -- a batch never spans two lumi sections
         local lumi = floor(seq / per_lumi)
         n = min(n, (lumi + 1) * per_lumi - seq)
      end
      local ids = C.ngt_batch_event_ids(b)
      for _, s in ipairs(scalars) do
         local p = ffi.cast(s.t, C.ngt_batch_column(b, s.i))
         p[0] = s.lumi and 1 + floor(seq / per_lumi) or (s.run and run_no or 0)
      end
      local ptrs = {}
      for k, f in ipairs(fillers) do ptrs[k] = ffi.cast(f.t, C.ngt_batch_column(b, f.i)) end
      for e = 0, n - 1 do
         for k, f in ipairs(fillers) do f.fn(ptrs[k], e, b) end
         ids[e] = seq
         seq = seq + 1
      end
      C.ngt_batch_set_count(b, n, nil)
      return n
   end
   return src
end

return _M
