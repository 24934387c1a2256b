-- ngt/run.lua: runs a built menu over a source on the threaded runner: the main thread fills and
-- submits batches (back-pressure from the pool), polls the SIGINT flag and draws a progress line
-- on a terminal; returns the statistics snapshot taken after draining.
local core = require "ngt.core"
local ffi, C = core.ffi, core.C

local _M = {}

ffi.cdef [[
typedef struct { long sec; long nsec; } ngt_lua_timespec;
int clock_gettime(int clk, ngt_lua_timespec *ts);
]]
local ts = ffi.new("ngt_lua_timespec")
-- API: monotonic seconds.
function _M.now()
   ffi.C.clock_gettime(1, ts)
   return tonumber(ts.sec) + tonumber(ts.nsec) * 1e-9
end

-- API: a function(menu) -> a runner over menu.menu with options ro, or nil, err (what a reload
-- calls for the new menu).
function _M.runner_maker(ro)
   local e = core.err()
   return function(m)
      local r = C.ngt_runner_new(m.menu, ro, e)
      if r == nil then return nil, "runner: " .. core.msg(e) end
      return r
   end
end

-- API: runs; opts: threads, batch, progress (bool), recorder (ngt_recorder* or nil), control
-- (lua/ngt/control.lua object or nil: pause, drain, stop, reload between batches), path.
-- Returns { stats = ngt_stats*, menu = the menu run last, reloads = { {path, totals}... },
-- wall = s, interrupted = bool, stopped = "control" or nil } or nil, err.
function _M.run(menu, src, opts)
   local e = core.err()
   local ro = ffi.new("ngt_run_opts")
   ro.threads = opts.threads or 0
   ro.capacity = opts.batch or 256
   ro.batches = opts.batches or 0
   if opts.recorder ~= nil then
      ro.in_order = 1
      ro.sink = C.ngt_recorder_sink
      ro.sink_user = opts.recorder
   end
   -- st: what a reload (control.lua) replaces between batches
   local st = { menu = menu, src = src, path = opts.path, recorder = opts.recorder, old = {},
                make_runner = _M.runner_maker(ro) }
   local rerr
   st.runner, rerr = st.make_runner(menu)
   if not st.runner then return nil, rerr end
   local ctl = opts.control
   if ctl then ctl:attach(menu, opts.path) end
   if core.in_binary then C.ngt_cli_catch_signals() end
   local stats = ffi.gc(C.ngt_stats_new(menu.menu), C.ngt_stats_free)
   local t0 = _M.now()
   local last, interrupted, err, stopped = t0, false, nil, nil
   local submitted = 0
   while true do
      if core.in_binary and C.ngt_cli_interrupted() ~= 0 then
         interrupted = true
         break
      end
      local act = ctl and ctl:tick(st)
      if act == "stop" then
         stopped = "control"
         break
      end
      if act ~= "pause" then
         local r = st.runner
         local b = C.ngt_runner_acquire(r)
         if b == nil then break end
         local n = src:fill(b)
         if n == 0 then
            C.ngt_runner_release(r, b)
            break
         end
         if C.ngt_runner_submit(r, b, e) < 0 then
            err = "submit: " .. core.msg(e)
            break
         end
         submitted = submitted + n
      end
      if opts.progress then
         local t = _M.now()
         if t - last > 0.25 then
            last = t
            C.ngt_stats_read(menu.menu, stats)
            local tot = C.ngt_stats_totals(stats)
            io.stdout:write(string.format("\r  %d / %d events, %d accepted, %.0f events/s   ",
               tonumber(tot["in"]), src.events, tonumber(tot.accepted), tonumber(tot["in"]) / (t - t0)))
            io.stdout:flush()
         end
      end
   end
   C.ngt_runner_drain(st.runner)
   local wall = _M.now() - t0
   C.ngt_runner_free(st.runner)
   if ctl then ctl:attach(nil) end
   if opts.progress then io.stdout:write("\r" .. string.rep(" ", 70) .. "\r") end
   local res = _M.finish(st, menu, stats)
   if err then return nil, err end
   res.wall, res.interrupted, res.stopped, res.submitted = wall, interrupted, stopped, submitted
   return res
end

-- API: after a run over st (menu, old = { {menu, path}... } left by reloads): the totals of every
-- menu retired by a reload, those menus closed (but the first, the caller's), and the last menu's
-- statistics. Returns { stats, menu, reloads = { {path, totals}... } }.
function _M.finish(st, first, stats)
   local reloads = {}
   for _, o in ipairs(st.old) do
      local s = C.ngt_stats_new(o.menu.menu)
      C.ngt_stats_read(o.menu.menu, s)
      local t = C.ngt_stats_totals(s)
      reloads[#reloads + 1] = { path = o.path, totals = { ["in"] = tonumber(t["in"]),
         accepted = tonumber(t.accepted), rejected = tonumber(t.rejected),
         errored = tonumber(t.errored), batches = tonumber(t.batches) } }
      C.ngt_stats_free(s)
      if o.menu ~= first then o.menu:close() end
   end
   if #st.old > 0 then stats = ffi.gc(C.ngt_stats_new(st.menu.menu), C.ngt_stats_free) end
   C.ngt_stats_read(st.menu.menu, stats)
   return { stats = stats, menu = st.menu, reloads = reloads }
end

return _M
