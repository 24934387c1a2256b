-- ngt/control.lua: the node's control from the Lua main thread. The control socket itself is a C
-- thread (modules/zmq/ctl.c) that answers every request at once; what needs Lua (a menu reload)
-- is queued and picked up here, between batches, by tick(). Also the Prometheus endpoint.
local core = require "ngt.core"
local ffi, C = core.ffi, core.C

local _M = {}

assert(core.cdef_module("ngt_zmq.h"))
pcall(ffi.cdef, "int usleep(unsigned us);") -- also declared by ngt.zmq

local STATE = { [0] = "running", "paused", "draining", "stopping" }

local M = {}
M.__index = M

-- API: control.new{ endpoint, curve_secret, curve_allow, remote, metrics } -> ctl or nil, err.
-- endpoint may be nil (metrics alone).
function _M.new(o)
   local e = core.err()
   local c = C.ngt_ctl_new(o.endpoint, o.curve_secret, o.curve_allow, o.remote and 1 or 0, e)
   if c == nil then return nil, core.msg(e) end
   if core.in_binary then -- validation files: the binary's .npy reader
      require "ngt.npyio"
      C.ngt_ctl_set_npy(c, C.ngt_npy_read, C.ngt_npy_free)
   end
   local self = setmetatable({ c = c, path = nil, cmd = ffi.new("char[16]"),
                               arg = ffi.new("char[1024]") }, M)
   if o.metrics then
      self.metrics = C.ngt_metrics_new(c, o.metrics, o.remote and 1 or 0, e)
      if self.metrics == nil then
         C.ngt_ctl_free(c)
         return nil, core.msg(e)
      end
   end
   return self
end

-- API: the endpoint as bound ("tcp://127.0.0.1:40123").
function M:endpoint() return ffi.string(C.ngt_ctl_endpoint(self.c)) end

-- API: the menu the commands act on.
function M:attach(menu, path)
   self.path = path
   C.ngt_ctl_set_menu(self.c, menu and menu.menu or nil, path)
end

-- API: "running", "paused", "draining" or "stopping".
function M:state() return STATE[C.ngt_ctl_state(self.c)] end

-- Builds a new menu from file and, when it is sound, switches the run to it (st: run.lua's
-- state: menu, runner, src, make_runner, old, switch). Returns true or nil, why.
local function reload(st, file)
   if st.recorder ~= nil then return nil, "reload: not supported with --output (one recorder per menu)" end
   local new, err = require("ngt").load(file)
   if not new then return nil, err end
   local old_id = C.ngt_schema_id(st.menu.schema)
   local new_id = C.ngt_schema_id(new.schema)
   if old_id ~= new_id then
      local ok, why = false, "this source cannot change its input schema"
      if st.src.reschema then ok, why = st.src:reschema(new) end
      if not ok then
         new:close()
         return nil, string.format("reload: input schema id changes (%s -> %s): %s",
                                   bit.tohex(old_id, 16), bit.tohex(new_id, 16), why or "refused")
      end
   end
   local r, rerr = st.make_runner(new)
   if not r then
      new:close()
      return nil, rerr
   end
   -- batches in flight finish on the old menu; its totals go into the node's. A source with
   -- threads of its own (ZeroMQ) switches itself over (st.switch).
   local note
   if st.switch then
      local ok, serr = st.switch(new, r)
      note = ok and serr or nil
      if not ok then
         C.ngt_runner_free(r)
         new:close()
         return nil, serr
      end
   else
      C.ngt_runner_drain(st.runner)
   end
   C.ngt_runner_free(st.runner)
   st.old[#st.old + 1] = { menu = st.menu, path = st.path }
   st.menu, st.runner, st.path = new, r, file
   return true, note
end

-- API: called by the run loop between batches. Returns "stop" (drain and end), "pause" (submit
-- nothing now) or nil (go on). Runs queued main-thread jobs (reload).
function M:tick(st)
   local id = C.ngt_ctl_next(self.c, self.cmd, 16, self.arg, 1024)
   if id > 0 then
      local cmd, file = ffi.string(self.cmd), ffi.string(self.arg)
      local ok, err = false, "unknown job '" .. cmd .. "'"
      if cmd == "reload" then
         local pok, a, b = pcall(reload, st, file)
         if pok then ok, err = a, b else ok, err = nil, tostring(a) end
      end
      if ok then
         self:attach(st.menu, file)
         C.ngt_ctl_finish(self.c, id, 1, "menu " .. file .. " running" .. (err and " (" .. err .. ")" or ""))
      else
         C.ngt_ctl_finish(self.c, id, 0, err or "failed")
      end
   end
   local s = C.ngt_ctl_state(self.c)
   if s >= 2 then return "stop" end
   if s == 1 then
      C.usleep(1000)
      return "pause"
   end
   return nil
end

-- API: stops the metrics and the control thread (waits for a running swap).
function M:close()
   if self.metrics ~= nil then C.ngt_metrics_free(self.metrics) end
   if self.c ~= nil then C.ngt_ctl_free(self.c) end
   self.metrics, self.c = nil, nil
end

-- API: one request to a control endpoint; returns the reply text or nil, err.
-- opts: timeout_ms, server_key, client_secret.
function _M.request(endpoint, text, opts)
   opts = opts or {}
   local size = 4 * 1024 * 1024
   local buf = ffi.new("char[?]", size)
   local e = core.err()
   local n = C.ngt_ctl_request(endpoint, text, buf, size, opts.timeout_ms or 5000,
                               opts.server_key, opts.client_secret, e)
   if n < 0 then return nil, core.msg(e) end
   return ffi.string(buf, n)
end

-- ---- Model swap from Lua (the same C functions the control socket's jobs call) ------------

-- The validation arrays of opts (comma-separated .npy files, read by the binary's reader) as an
-- ngt_swap_check; keep holds what must live through the call.
local function check(opts)
   opts = opts or {}
   local c = ffi.new("ngt_swap_check")
   c.tol = opts.tol or 0
   local keep = {}
   local function arrays(list)
      require "ngt.npyio"
      local files = {}
      for f in list:gmatch("[^,]+") do files[#files + 1] = f end
      local ptrs = ffi.new("const void *[?]", #files)
      for i, f in ipairs(files) do
         local a = ffi.gc(ffi.new("ngt_npy[1]"), function(x) C.ngt_npy_free(x) end)
         local e = core.err()
         if C.ngt_npy_read(f, a, e) < 0 then error({ swap = core.msg(e) }) end
         keep[#keep + 1] = a
         ptrs[i - 1] = a[0].data
         if i == 1 then c.n = a[0].shape[0] end
      end
      keep[#keep + 1] = ptrs
      return ptrs
   end
   if opts.inputs then c.inputs = arrays(opts.inputs) end
   if opts.outputs then c.outputs = arrays(opts.outputs) end
   return c, opts, keep
end

local function with_check(opts, fn)
   local ok, c, o, keep = pcall(check, opts)
   if not ok then
      if type(c) == "table" and c.swap then return nil, c.swap end
      error(c, 0)
   end
   local r, err = fn(c, o)
   keep = nil
   return r, err
end

-- API: swap(menu, model, file, opts) -> the new version's serial, or nil, why (the old version
-- kept). opts: backend, options, inputs, outputs (comma-separated .npy, in the ngt binary), tol.
-- Loads and validates on the calling thread. Example: control.swap(menu, "fad", "models/fad2.onnx", { tol = 1e-4 })
function _M.swap(menu, model, file, opts)
   return with_check(opts, function(c, o)
      local e = core.err()
      local rc = C.ngt_registry_swap(menu.registry, model, o.backend, file, o.options, c, e)
      if rc < 0 then return nil, core.msg(e) end
      return rc
   end)
end

-- API: shadow(menu, model, file, opts) -> true or nil, why; opts as swap.
function _M.shadow(menu, model, file, opts)
   return with_check(opts, function(c, o)
      local e = core.err()
      if C.ngt_registry_shadow(menu.registry, model, o.backend, file, o.options, c, e) < 0 then
         return nil, core.msg(e)
      end
      return true
   end)
end

-- API: promote(menu, model) -> the new serial or nil, why.
function _M.promote(menu, model)
   local e = core.err()
   local rc = C.ngt_registry_promote(menu.registry, model, e)
   if rc < 0 then return nil, core.msg(e) end
   return rc
end

-- API: shadow_stats(menu, model) -> { active, events, identical, errors, max_abs_diff }.
function _M.shadow_stats(menu, model)
   local st = ffi.new("ngt_shadow_stats")
   C.ngt_registry_shadow_stats(menu.registry, model, st)
   return { active = st.active ~= 0, events = tonumber(st.events), identical = tonumber(st.identical),
            errors = tonumber(st.errors), max_abs_diff = st.max_abs_diff }
end

-- API: the serial of a model's live version (0 when unknown).
function _M.serial(menu, model) return tonumber(C.ngt_registry_model_serial(menu.registry, model)) end

-- API: sleeps ms milliseconds.
function _M.sleep_ms(ms) C.usleep(ms * 1000) end

-- API: a fresh CURVE key pair (public, secret), Z85.
function _M.keypair()
   local p, s = ffi.new("char[41]"), ffi.new("char[41]")
   if C.ngt_curve_keypair(p, s) ~= 0 then return nil, "this libzmq has no CURVE support" end
   return ffi.string(p), ffi.string(s)
end

return _M
