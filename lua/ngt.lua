-- ngt.lua: the Lua API of ngt. A menu script calls these constructors and returns ngt.menu{...}:
-- plain data (schema, models, chains, streams) that ngt.load() validates and builds through the C
-- API (lua/ngt/build.lua). Constructors raise "file:line: message" for a wrong script; ngt.load
-- returns nil, err. See docs/lua.md.
local _M = { _VERSION = "0.1.0" }

local paths_ok, paths = pcall(require, "ngt.paths")
local own_dir = paths_ok and paths.lua_dir or nil

-- "file:line" of the first caller outside ngt's own Lua files (the menu script's line).
local function where()
   for level = 3, 30 do
      local info = debug.getinfo(level, "Sl")
      if not info then break end
      local src = info.source
      local own = own_dir and src:sub(1, #own_dir + 1) == "@" .. own_dir
      if src:sub(1, 1) == "@" and not own and info.currentline > 0 then
         return src:sub(2) .. ":" .. info.currentline
      end
   end
   return nil -- e.g. a tail call (return ngt.menu {...}): the builder names the file
end
_M.where = where

-- "file:line" of the first line of the script being loaded (ngt.load) that matches pattern
-- (comment lines skipped), for constructors whose caller's line is hidden by a tail call
-- (`return ngt.menu {...}`).
local loading = nil
local function locate(pattern)
   local f = loading and io.open(loading, "r")
   if not f then return nil end
   local n, at = 0, nil
   for line in f:lines() do
      n = n + 1
      if line:find(pattern) and not line:match("^%s*%-%-") then
         at = loading .. ":" .. n
         break
      end
   end
   f:close()
   return at
end

-- Raises "file:line: unknown key 'k' (known: ...)" for a string key of t not in known.
local function check_keys(t, known, w, what, key_line)
   for k in pairs(t) do
      if type(k) == "string" and not known[k] then
         local names = {}
         for n in pairs(known) do names[#names + 1] = n end
         table.sort(names)
         local at = key_line and locate("%f[%w_]" .. k:gsub("%p", "%%%0") .. "%s*=") or w
         error(string.format("%s: %s: unknown key '%s' (known: %s)", at or w or "?", what, k,
                             table.concat(names, ", ")), 0)
      end
   end
end

local function fail(w, fmt, ...)
   error((w or "?") .. ": " .. string.format(fmt, ...), 0)
end

local function sorted_keys(t)
   local keys = {}
   for k in pairs(t) do
      if type(k) == "string" then keys[#keys + 1] = k end
   end
   table.sort(keys)
   return keys
end

-- ---- Schema -------------------------------------------------------------------------------

-- API: a batch scalar (one value per batch). Example: run = ngt.scalar "u32"
function _M.scalar(dtype)
   if type(dtype) ~= "string" then fail(where(), "ngt.scalar expects a dtype name such as \"u32\"") end
   return { kind = "scalar", type = dtype, where = where() }
end

-- API: a collection: fields of [event][max] plus a count.
-- Example: jet = ngt.collection { pt = "f32", eta = "f32", phi = "f32", max = 12 }
function _M.collection(t)
   local w = where()
   if type(t) ~= "table" then fail(w, "ngt.collection expects a table of fields and max") end
   if type(t.max) ~= "number" or t.max < 1 or t.max ~= math.floor(t.max) then
      fail(w, "collection needs max = a positive integer")
   end
   local fields = {}
   for _, k in ipairs(sorted_keys(t)) do
      if k ~= "max" then
         if type(t[k]) ~= "string" then fail(w, "collection field '%s' needs a dtype name", k) end
         fields[#fields + 1] = { name = k, type = t[k] }
      end
   end
   if #fields == 0 then fail(w, "a collection needs at least one field") end
   return { kind = "collection", fields = fields, max = t.max, where = w }
end

-- API: the input schema. Keys are column names (sorted for a stable schema id); values are
-- "f32", "f32[77]", ngt.scalar, ngt.collection; identity = { run =, lumi =, event = } names the
-- physics identity used by prescales.
-- Example: ngt.schema { fad_in = "f32[77]", run = ngt.scalar "u32", identity = { run = "run" } }
function _M.schema(t)
   local w = where()
   if type(t) ~= "table" then fail(w, "ngt.schema expects a table of columns") end
   local cols = {}
   for _, name in ipairs(sorted_keys(t)) do
      if name ~= "identity" then
         local v = t[name]
         if type(v) == "string" then
            cols[#cols + 1] = { name = name, kind = "event", type = v, where = w }
         elseif type(v) == "table" and (v.kind == "scalar" or v.kind == "collection") then
            local c = {}
            for k, x in pairs(v) do c[k] = x end
            c.name = name
            cols[#cols + 1] = c
         else
            fail(w, "column '%s': expected a type string, ngt.scalar or ngt.collection", name)
         end
      end
   end
   local id = t.identity
   if id ~= nil and type(id) ~= "table" then fail(w, "identity must be { run =, lumi =, event = }") end
   return { kind = "schema", columns = cols, identity = id, where = w }
end

-- ---- Models -------------------------------------------------------------------------------

-- precision = a table -> JSON text for the backend's options (the hls backend reads JSON), by the
-- one JSON encoder (ngt/json.lua).
local json = require "ngt.json"

-- API: a model, loaded once when the menu is built.
-- Example: ngt.model { name = "fad", file = "models/fad.onnx", backend = "ref" }
-- backend = "hls" takes precision = a config file path (.json/.lua) or a table (docs/hls.md);
-- backend = "gpu" takes the same precision (fixed point, bit-exact with hls) and options such as
-- "gemm=cublas" (docs/gpu.md).
function _M.model(t)
   local w = where()
   if type(t) ~= "table" or type(t.name) ~= "string" or type(t.file) ~= "string" then
      fail(w, "ngt.model needs name = and file =")
   end
   check_keys(t, { name = 1, file = 1, backend = 1, options = 1, precision = 1 }, w,
              "ngt.model '" .. t.name .. "'")
   local options = t.options
   if t.precision ~= nil then
      local p = type(t.precision) == "table" and json.encode(t.precision) or tostring(t.precision)
      -- the gpu backend takes its own words first, then "precision=" and the rest (docs/gpu.md)
      options = (t.backend == "gpu" and t.options) and (t.options .. " precision=" .. p) or p
   end
   return { kind = "model", name = t.name, file = t.file, backend = t.backend or "ref",
            options = options, where = w }
end

-- ---- Cut helpers: each returns a string in the cut language (docs/cuts.md) ------------------

local function call(fname, ...)
   local args = { ... }
   for i = 1, select("#", ...) do args[i] = tostring(args[i]) end
   return fname .. "(" .. table.concat(args, ", ") .. ")"
end
for _, f in ipairs { "max", "min", "sum", "mean", "count", "any", "all", "ht", "mass", "abs",
                     "sqrt", "deltaR", "maxmass", "mindr" } do
   _M[f] = function(...) return call(f, ...) end
end
-- API: leading(coll, k, field) --> "leading(coll, k).field"
function _M.leading(coll, k, field)
   return call("leading", coll, k) .. "." .. field
end

-- ---- Steps --------------------------------------------------------------------------------

-- API: a cut step: one expression, or a left side, an operator and a right side.
-- Example: ngt.cut "ht(jet) > 300", ngt.cut(ngt.max "mdt_out", ">", 0.5)
function _M.cut(a, op, b)
   local w = where()
   local expr
   if op == nil then
      expr = a
   else
      if type(op) ~= "string" or b == nil then fail(w, "ngt.cut(lhs, op, rhs) needs all three") end
      expr = tostring(a) .. " " .. op .. " " .. tostring(b)
   end
   if type(expr) ~= "string" then fail(w, "ngt.cut expects a cut expression string") end
   return { kind = "cut", expr = expr, where = w }
end

-- API: a prescale step keeping 1 event in N (0 disables the chain).
function _M.prescale(n)
   local w = where()
   if type(n) ~= "number" or n < 0 or n ~= math.floor(n) or n > 4294967295 then
      fail(w, "ngt.prescale expects a non-negative integer")
   end
   return { kind = "prescale", n = n, where = w }
end

local function names(v, w, what)
   if type(v) == "string" then return { v } end
   if type(v) ~= "table" or #v == 0 then fail(w, "%s: expected a column name or a list of them", what) end
   for _, x in ipairs(v) do
      if type(x) ~= "string" then fail(w, "%s: column names must be strings", what) end
   end
   return v
end

-- API: an inference step (a shared producer: runs once per batch for every chain using it).
-- Example: ngt.infer(fad, "fad_in", "fad_out")
function _M.infer(model, inputs, outputs)
   local w = where()
   if type(model) ~= "table" or model.kind ~= "model" then
      if type(model) == "string" then
         fail(w, "ngt.infer: unknown model '%s' (pass the value ngt.model returned)", model)
      end
      fail(w, "ngt.infer expects a model made by ngt.model")
   end
   return { kind = "infer", model = model, inputs = names(inputs, w, "infer inputs"),
            outputs = names(outputs, w, "infer outputs"), where = w }
end

-- API: a Lua step: fn(ev, n) sees columns as FFI arrays (ev["jet.pt"][ev.sel[i]][k]) and the
-- selection vector ev.sel[0..n-1]; a filter clears ev.pass[i], a producer (writes = {col = "f32"})
-- fills its columns. fn runs in one Lua state per worker: upvalues must be plain data.
-- Example: ngt.lua { name = "lead", reads = { "jet.pt" }, fn = function(ev, n) ... end }
function _M.lua(t)
   local w = where()
   if type(t) ~= "table" or type(t.name) ~= "string" or type(t.fn) ~= "function" then
      fail(w, "ngt.lua needs name = and fn = function(ev, n) ... end")
   end
   check_keys(t, { name = 1, fn = 1, reads = 1, writes = 1, timeout = 1 }, w,
              "ngt.lua '" .. t.name .. "'")
   if t.timeout ~= nil and (type(t.timeout) ~= "number" or not (t.timeout > 0)) then
      fail(w, "lua step '%s': timeout must be a number of seconds > 0", t.name)
   end
   local reads = t.reads and names(t.reads, w, "lua step reads") or {}
   local writes = {}
   if t.writes ~= nil then
      if type(t.writes) ~= "table" then fail(w, "lua step writes: expected { column = \"type\" }") end
      for _, k in ipairs(sorted_keys(t.writes)) do
         writes[#writes + 1] = { name = k, type = t.writes[k] }
      end
   end
   local upvals = require("ngt.upvalues").serialize(t.fn, w)
   local ok, chunk = pcall(string.dump, t.fn)
   if not ok then fail(w, "lua step '%s': cannot dump its function: %s", t.name, chunk) end
   return { kind = "lua", name = t.name, reads = reads, writes = writes, fn = t.fn, chunk = chunk,
            upvals = upvals, mode = "sync", timeout = t.timeout, where = w }
end

-- API: run a Lua step on the offload helper threads. Example: ngt.offload(ngt.lua { ... })
function _M.offload(step)
   local w = where()
   if type(step) ~= "table" or step.kind ~= "lua" then fail(w, "ngt.offload expects a Lua step") end
   local s = {}
   for k, v in pairs(step) do s[k] = v end
   s.mode, s.timeout = "offload", step.timeout
   s.base = step.base or step -- the same ngt.lua value offloaded in two chains is one step
   return s
end

-- ---- Chains and the menu ------------------------------------------------------------------

-- API: a chain. Example: ngt.chain "L1_HT" { ngt.cut "ht(jet) > 300", seeds = { "L1_A" } }
function _M.chain(name)
   local w = where()
   if type(name) ~= "string" or name == "" then fail(w, "ngt.chain expects a name") end
   return function(t)
      if type(t) ~= "table" then fail(w, "chain '%s': expected a table of steps", name) end
      local steps = {}
      for i, s in ipairs(t) do
         if type(s) ~= "table" or not s.kind or s.kind == "model" or s.kind == "chain" then
            fail(w, "chain '%s': item %d is not a step", name, i)
         end
         steps[i] = s
      end
      for k in pairs(t) do
         if type(k) ~= "number" and k ~= "seeds" and k ~= "veto" then
            fail(w, "chain '%s': unknown key '%s' (known: seeds, veto, and the steps)", name, tostring(k))
         end
      end
      return { kind = "chain", name = name, steps = steps,
               seeds = t.seeds and names(t.seeds, w, "seeds") or nil,
               veto = t.veto and names(t.veto, w, "veto") or nil, where = w }
   end
end

-- API: the menu. streams = { name = { chains } }; prescale_columns = { col = { CHAIN = N } };
-- input_rate = Hz (turns accept fractions into rates in the report).
function _M.menu(t)
   local w = where() or locate("ngt%.menu") -- `return ngt.menu {...}` hides the caller's line
   if type(t) ~= "table" then fail(w, "ngt.menu expects a table") end
   check_keys(t, { schema = 1, chains = 1, streams = 1, prescale_columns = 1,
                   prescale_column = 1, input_rate = 1, source = 1, sinks = 1, control = 1 }, w,
              "ngt.menu", true)
   if t.input_rate ~= nil and (type(t.input_rate) ~= "number" or not (t.input_rate > 0)
                               or t.input_rate == math.huge) then
      fail(w, "ngt.menu: input_rate must be a number of Hz > 0")
   end
   if t.prescale_column ~= nil and type(t.prescale_column) ~= "string" then
      fail(w, "ngt.menu: prescale_column must be the name of a prescale column")
   end
   if type(t.schema) ~= "table" or t.schema.kind ~= "schema" then fail(w, "ngt.menu needs schema = ngt.schema{...}") end
   if type(t.chains) ~= "table" or #t.chains == 0 then fail(w, "ngt.menu needs chains = { ngt.chain ... }") end
   local models, seen = {}, {}
   for i, c in ipairs(t.chains) do
      if type(c) ~= "table" or c.kind ~= "chain" then fail(w, "menu chains: item %d is not a chain", i) end
      for _, s in ipairs(c.steps) do
         if s.kind == "infer" and not seen[s.model] then
            seen[s.model] = true
            models[#models + 1] = s.model
         end
      end
   end
   local streams = {}
   for _, name in ipairs(sorted_keys(t.streams or {})) do
      streams[#streams + 1] = { name = name, chains = names(t.streams[name], w, "stream " .. name) }
   end
   local columns = {}
   for _, name in ipairs(sorted_keys(t.prescale_columns or {})) do
      local f = t.prescale_columns[name]
      if type(f) ~= "table" then fail(w, "prescale column '%s': expected { CHAIN = N }", name) end
      local list = {}
      for _, ch in ipairs(sorted_keys(f)) do list[#list + 1] = { chain = ch, n = f[ch] } end
      columns[#columns + 1] = { name = name, factors = list }
   end
   if t.source ~= nil and (type(t.source) ~= "table" or t.source.kind ~= "zmq_source") then
      fail(w, "ngt.menu: source = ngt.source.zmq{...}")
   end
   local sinks = {}
   for i, s in ipairs(t.sinks or {}) do
      if type(s) ~= "table" or s.kind ~= "zmq_sink" then fail(w, "menu sinks: item %d is not ngt.sink.zmq{...}", i) end
      sinks[i] = s
   end
   return { kind = "menu", schema = t.schema, chains = t.chains, models = models,
            streams = streams, prescale_columns = columns, prescale_column = t.prescale_column,
            input_rate = t.input_rate, control = t.control, source = t.source, sinks = sinks, where = w }
end

-- ---- Sources and sinks (a node: docs/node.md) ------------------------------------------------

_M.source, _M.sink = {}, {}

-- API: a ZeroMQ PULL source (wire format v1). Example:
--   source = ngt.source.zmq { endpoint = "tcp://127.0.0.1:5555", flush_ms = 1, stop_at_end = false }
function _M.source.zmq(t)
   local w = where()
   if type(t) ~= "table" or type(t.endpoint) ~= "string" then fail(w, "ngt.source.zmq needs endpoint = \"tcp://...\"") end
   for k in pairs(t) do
      if k ~= "endpoint" and k ~= "flush_ms" and k ~= "stop_at_end" and k ~= "max_events" and k ~= "node_id"
         and k ~= "linger_ms" then
         fail(w, "ngt.source.zmq: unknown option '%s'", tostring(k))
      end
   end
   return { kind = "zmq_source", endpoint = t.endpoint, flush_ms = t.flush_ms, stop_at_end = t.stop_at_end,
            max_events = t.max_events, node_id = t.node_id, linger_ms = t.linger_ms, where = w }
end

-- API: a ZeroMQ PUSH sink for one output stream. Example:
--   sinks = { ngt.sink.zmq { stream = "physics", endpoint = "tcp://127.0.0.1:5556" } }
function _M.sink.zmq(t)
   local w = where()
   if type(t) ~= "table" or type(t.stream) ~= "string" or type(t.endpoint) ~= "string" then
      fail(w, "ngt.sink.zmq needs stream = NAME and endpoint = \"tcp://...\"")
   end
   return { kind = "zmq_sink", stream = t.stream, endpoint = t.endpoint, where = w }
end

-- ---- Loading ------------------------------------------------------------------------------

-- API: runs a menu script and builds it. Returns the built menu (lua/ngt/build.lua) or nil, err.
-- Example: local m, err = ngt.load "configs/l1_demo.lua"
function _M.load(path, opts)
   local chunk, err = loadfile(path)
   if not chunk then return nil, err end
   local outer = loading
   loading = path
   local ok, spec = pcall(chunk)
   loading = outer
   if not ok then
      if type(spec) ~= "string" then spec = tostring(spec) end
      return nil, spec
   end
   if type(spec) ~= "table" or spec.kind ~= "menu" then
      return nil, path .. ": the script must return ngt.menu { ... }"
   end
   return require("ngt.build").build(spec, path, opts)
end

return _M
