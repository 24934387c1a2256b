-- ngt/build.lua: turns a menu spec (plain data from ngt.menu) into C objects: schema, registry
-- with its models, Lua steps, menu; every failure is "file:line: message" at the construct that
-- caused it, and nothing is kept of a menu that failed.
local core = require "ngt.core"
local ffi, C = core.ffi, core.C

local _M = {}

local function strings(list)
   local arr = ffi.new("const char *[?]", math.max(#list, 1))
   for i, s in ipairs(list) do arr[i - 1] = s end
   return arr, list -- keep the Lua strings alive with the array
end

local exists = require("ngt.args").exists

-- A model file as written, else relative to the menu script's directory or its parent.
local function model_path(file, menu_path)
   if exists(file) or file:sub(1, 1) == "/" then return file end
   local dir = menu_path:match("^(.*)/[^/]*$") or "."
   for _, p in ipairs { dir .. "/" .. file, dir .. "/../" .. file } do
      if exists(p) then return p end
   end
   return file
end

local function dtype(name)
   local t = ffi.new("ngt_dtype[1]")
   if C.ngt_dtype_parse(name, t) ~= 0 then return nil end
   return t[0]
end

-- "f32[4][2]" -> C view type of a column of that type (for Lua steps' new columns).
local function view_of_type(ty)
   local base, dims = ty:match("^(%w+)(.*)$")
   local ct = base and core.ctype[base]
   if not ct or dims:gsub("%[%d+%]", "") ~= "" then return nil end
   if dims == "" then return ct .. " *" end
   return ct .. "(*)" .. dims
end

local M = {}
M.__index = M

-- API: frees the C objects (the menu before the registry and Lua steps).
function M:close()
   if self.menu ~= nil then C.ngt_menu_free(self.menu) end
   for _, s in ipairs(self.lua_steps) do C.ngt_lua_step_free(s.c) end
   if self.registry ~= nil then C.ngt_registry_free(self.registry) end
   if self.schema ~= nil then C.ngt_schema_free(self.schema) end
   self.menu, self.registry, self.schema, self.lua_steps = nil, nil, nil, {}
end

-- API: allocations made by every Lua step's states so far: count, bytes.
function M:lua_allocs()
   local c, b = ffi.new("uint64_t[1]"), ffi.new("uint64_t[1]")
   local tc, tb = 0, 0
   for _, s in ipairs(self.lua_steps) do
      C.ngt_lua_step_allocs(s.c, c, b)
      tc, tb = tc + tonumber(c[0]), tb + tonumber(b[0])
   end
   return tc, tb
end

local function make_schema(b, sp)
   local e = b.err
   local s = C.ngt_schema_new()
   b.schema = s
   for _, c in ipairs(sp.columns) do
      local rc
      if c.kind == "event" then
         rc = C.ngt_schema_add(s, c.name, c.type, e)
      elseif c.kind == "scalar" then
         local t = dtype(c.type)
         if not t then b:fail(c.where, "column '%s': unknown dtype '%s'", c.name, c.type) end
         rc = C.ngt_schema_add_scalar(s, c.name, t, e)
      else
         local fnames, ftypes = {}, ffi.new("ngt_dtype[?]", #c.fields)
         for i, f in ipairs(c.fields) do
            fnames[i] = f.name
            local t = dtype(f.type)
            if not t then b:fail(c.where, "collection '%s' field '%s': unknown dtype '%s'", c.name, f.name, f.type) end
            ftypes[i - 1] = t
         end
         local arr = strings(fnames)
         rc = C.ngt_schema_add_collection(s, c.name, c.max, #c.fields, arr, ftypes, e)
      end
      if rc < 0 then b:fail(c.where, "%s", core.msg(e)) end
   end
   local id = sp.identity
   if id then
      if C.ngt_schema_set_identity(s, id.run, id.lumi, id.event, e) < 0 then
         b:fail(sp.where, "identity: %s", core.msg(e))
      end
   end
end

-- The C step of a Lua step spec: one per ngt.lua value, so the same value in two chains is one
-- step (a producer is then shared like ngt.infer: run once per batch for every chain using it).
local function lua_step_of(b, chain, st, lines)
   local key = st.base or st -- ngt.offload(x) in two chains: one step
   local known = b.lua_by_spec[key] and b.lua_by_spec[key][st.mode]
   if known then return known end
   for _, wcol in ipairs(st.writes) do
      local other = b.lua_writer[wcol.name]
      if other then
         b:fail(st.where, "chain '%s': lua step '%s' writes '%s', which lua step '%s' (%s) already writes: "
                .. "use the same ngt.lua value in every chain that needs it", chain.name, st.name,
                wcol.name, other.name, other.where or "?")
      end
   end
   local e = b.err
   local c = C.ngt_lua_step_new(st.name, st.chunk, #st.chunk, st.upvals, table.concat(lines), e)
   if c == nil then b:fail(st.where, "%s", core.msg(e)) end
   b.lua_steps[#b.lua_steps + 1] = { c = c, name = st.name }
   b.lua_by_spec[key] = b.lua_by_spec[key] or {}
   b.lua_by_spec[key][st.mode] = c
   for _, wcol in ipairs(st.writes) do b.lua_writer[wcol.name] = st end
   return c
end

local function add_lua_step(b, ci, chain, st)
   local e, m = b.err, b.menu
   local sch = C.ngt_menu_schema(m)
   local lines = {}
   for _, r in ipairs(st.reads) do
      local idx = C.ngt_schema_find(sch, r)
      if idx < 0 then
         b:fail(st.where, "chain '%s': lua step '%s' reads unknown column '%s'", chain.name, st.name, r)
      end
      lines[#lines + 1] = r .. "\t" .. core.view_type(C.ngt_schema_column(sch, idx)) .. "\n"
   end
   local wn, wt = {}, {}
   for _, wcol in ipairs(st.writes) do
      local vt = type(wcol.type) == "string" and view_of_type(wcol.type)
      if not vt then
         b:fail(st.where, "chain '%s': lua step '%s' writes '%s' with bad type '%s'", chain.name,
                st.name, wcol.name, tostring(wcol.type))
      end
      lines[#lines + 1] = wcol.name .. "\t" .. vt .. "\n"
      wn[#wn + 1], wt[#wt + 1] = wcol.name, wcol.type
   end
   local c = lua_step_of(b, chain, st, lines)
   local reads, writes, types = strings(st.reads), strings(wn), strings(wt)
   local def = ffi.new("ngt_step_def")
   def.name, def.fn, def.user = st.name, C.ngt_lua_step_fn, c
   def.mode = st.mode == "offload" and C.NGT_STEP_OFFLOAD or C.NGT_STEP_SYNC
   def.timeout_s = st.timeout or 0
   def.n_reads, def.reads = #st.reads, reads
   def.n_writes, def.writes, def.write_types = #wn, writes, types
   local keep = { st.name, st.reads, wn, wt }
   if C.ngt_menu_step(m, ci, def, e) < 0 then
      b:fail(st.where, "chain '%s': %s", chain.name, core.msg(e))
   end
   b.keep[#b.keep + 1] = keep
end

local function add_chain(b, chain)
   local e, m = b.err, b.menu
   if b.chain_index[chain.name] then
      b:fail(chain.where, "duplicate chain '%s' (first at %s)", chain.name, b.chain_where[chain.name])
   end
   local ci = C.ngt_menu_chain(m, chain.name, e)
   if ci < 0 then b:fail(chain.where, "chain '%s': %s", chain.name, core.msg(e)) end
   b.chain_index[chain.name], b.chain_where[chain.name] = ci, chain.where
   for _, kind in ipairs { "seeds", "veto" } do
      local list = chain[kind]
      if list then
         for _, other in ipairs(list) do
            if not b.spec_chains[other] then
               b:fail(chain.where, "chain '%s': %s names unknown chain '%s'", chain.name, kind, other)
            end
         end
         local fn = kind == "seeds" and C.ngt_menu_seed or C.ngt_menu_veto
         if fn(m, ci, #list, (strings(list)), e) < 0 then
            b:fail(chain.where, "chain '%s': %s: %s", chain.name, kind, core.msg(e))
         end
      end
   end
   for _, st in ipairs(chain.steps) do
      local rc = 0
      if st.kind == "cut" then
         rc = C.ngt_menu_cut(m, ci, st.expr, e)
         if rc < 0 then b:fail(st.where, "%s", core.msg(e)) end
      elseif st.kind == "prescale" then
         rc = C.ngt_menu_prescale(m, ci, st.n, e)
      elseif st.kind == "infer" then
         if not b.models[st.model.name] then
            b:fail(st.where, "chain '%s': unknown model '%s'", chain.name, st.model.name)
         end
         rc = C.ngt_menu_infer(m, ci, st.model.name, #st.inputs, (strings(st.inputs)),
                               #st.outputs, (strings(st.outputs)), e)
      elseif st.kind == "lua" then
         add_lua_step(b, ci, chain, st)
      else
         b:fail(st.where or chain.where, "chain '%s': unknown step kind '%s'", chain.name, tostring(st.kind))
      end
      if rc < 0 then b:fail(st.where, "%s", core.msg(e)) end
   end
end

-- "file:line" of the first line of the menu script that quotes name (or uses it as a table key):
-- streams and prescale
-- columns are plain tables, which carry no line of their own (and `return ngt.menu {...}` is a
-- tail call, which hides the caller's line). Falls back to fallback.
local function quoted_at(b, name, fallback)
   local f = b.path and io.open(b.path, "r")
   if not f then return fallback end
   local n, at = 0, fallback
   for line in f:lines() do
      n = n + 1
      local key = "%f[%w_]" .. name:gsub("%p", "%%%0") .. "%s*=" -- as a table key: Name = 5
      local named = line:find('"' .. name .. '"', 1, true) or line:find("'" .. name .. "'", 1, true)
         or line:find(key)
      if named and not line:match("^%s*%-%-") then -- comment lines do not count
         at = b.path .. ":" .. n
         break
      end
   end
   f:close()
   return at
end

local function build(b, spec, path, opts)
   local e = b.err
   make_schema(b, spec.schema)
   b.registry = C.ngt_registry_new(e)
   if b.registry == nil then b:fail(spec.where, "%s", core.msg(e)) end
   for _, md in ipairs(spec.models) do
      if b.models[md.name] and b.models[md.name] ~= md then
         b:fail(md.where, "two models named '%s'", md.name)
      end
      local file = model_path(md.file, path)
      if C.ngt_registry_load(b.registry, md.name, md.backend, file, md.options, e) < 0 then
         b:fail(md.where, "%s", core.msg(e))
      end
      b.models[md.name] = md
      b.model_files[#b.model_files + 1] = { name = md.name, file = file, backend = md.backend }
   end
   b.menu = C.ngt_menu_new(b.schema, b.registry, e)
   if b.menu == nil then b:fail(spec.where, "%s", core.msg(e)) end
   for _, c in ipairs(spec.chains) do b.spec_chains[c.name] = true end
   for _, c in ipairs(spec.chains) do add_chain(b, c) end
   for _, s in ipairs(spec.streams) do
      for _, c in ipairs(s.chains) do
         if not b.chain_index[c] then
            b:fail(quoted_at(b, c, spec.where), "stream '%s' names unknown chain '%s'", s.name, c)
         end
      end
      if C.ngt_menu_stream(b.menu, s.name, #s.chains, (strings(s.chains)), e) < 0 then
         b:fail(spec.where, "stream '%s': %s", s.name, core.msg(e))
      end
   end
   for _, col in ipairs(spec.prescale_columns) do
      local chains, factors = {}, ffi.new("uint32_t[?]", math.max(#col.factors, 1))
      for i, f in ipairs(col.factors) do
         if not b.chain_index[f.chain] then
            b:fail(quoted_at(b, f.chain, spec.where), "prescale column '%s' names unknown chain '%s'",
                   col.name, f.chain)
         end
         chains[i], factors[i - 1] = f.chain, f.n
      end
      if C.ngt_menu_prescale_column(b.menu, col.name, #chains, (strings(chains)), factors, e) < 0 then
         b:fail(spec.where, "prescale column '%s': %s", col.name, core.msg(e))
      end
   end
   local cuts_mode = { auto = C.NGT_CUTS_AUTO, compiled = C.NGT_CUTS_COMPILED, interp = C.NGT_CUTS_INTERP }
   if opts and opts.cuts and C.ngt_menu_set_cuts(b.menu, cuts_mode[opts.cuts] or -1, e) < 0 then
      b:fail(spec.where, "cuts: %s", core.msg(e))
   end
   if C.ngt_menu_build(b.menu, e) < 0 then b:fail(spec.where, "%s", core.msg(e)) end
   local column = (opts and opts.prescale_column) or spec.prescale_column
   if column and C.ngt_menu_select_column(b.menu, column, e) < 0 then
      b:fail(spec.where, "prescale column: %s", core.msg(e))
   end
end

-- API: builds a spec; returns the built menu object or nil, "file:line: message".
function _M.build(spec, path, opts)
   local b = setmetatable({ err = core.err(), spec = spec, path = path, models = {},
                            model_files = {}, lua_steps = {}, chain_index = {}, chain_where = {},
                            spec_chains = {}, keep = {}, lua_by_spec = {}, lua_writer = {} }, M)
   b.fail = function(_, w, fmt, ...) error({ msg = (w or path) .. ": " .. string.format(fmt, ...) }) end
   local ok, err = pcall(build, b, spec, path, opts)
   if not ok then
      b:close()
      if type(err) == "table" then return nil, err.msg end
      error(err, 0)
   end
   b.fail = nil
   b.chain_names = {}
   for i = 0, C.ngt_menu_nchains(b.menu) - 1 do
      b.chain_names[i + 1] = ffi.string(C.ngt_menu_chain_name(b.menu, i))
   end
   return b
end

return _M
