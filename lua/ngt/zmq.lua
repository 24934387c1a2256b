-- ngt/zmq.lua: the ZeroMQ module from Lua: modules/zmq/ngt_zmq.h fed to the FFI, a node run (a
-- PULL source into the runner, PUSH sinks per stream) driven from the main thread, and the source
-- statistics as a report section. The main thread only waits and polls: the source thread submits
-- batches to the runner in C, the sink threads send.
local core = require "ngt.core"
local ffi, C = core.ffi, core.C

local _M = {}

assert(core.cdef_module("ngt_zmq.h"))
pcall(ffi.cdef, "int usleep(unsigned us);") -- also declared by other modules

_M.REASONS = { "malformed", "version", "schema", "oversize", "counts", "sequence" }

-- API: parses "physics=tcp://...,calib=ipc://..." into { {stream=, endpoint=}, ... } or nil, err.
function _M.parse_sinks(text)
   local out = {}
   for item in text:gmatch("[^,]+") do
      local s, ep = item:match("^([%w_.-]+)=(.+)$")
      if not s then return nil, "--sink expects STREAM=ENDPOINT[,STREAM=ENDPOINT...], got '" .. item .. "'" end
      out[#out + 1] = { stream = s, endpoint = ep }
   end
   return out
end

-- API: runs a built menu as a node. src: { endpoint, flush_ms, stop_at_end, max_events, hwm,
-- node_id }; sinks: list of { stream, endpoint }, sinks_given: they came from the command line
-- (else from the script, and a reloaded script's sinks are opened); opts: threads, batch,
-- recorder, progress, control, path.
-- Returns { stats, menu, reloads, wall, interrupted, zmq = ngt_zmq_stats } or nil, err.
function _M.serve(menu, src, sinks, opts, sinks_given)
   local e = core.err()
   local zo = ffi.new("ngt_zmq_opts")
   zo.flush_ms = src.flush_ms or 1
   zo.stop_at_end = src.stop_at_end and 1 or 0
   zo.max_events = src.max_events or 0
   zo.hwm = src.hwm or 0
   zo.node_id = src.node_id or 0
   zo.linger_ms = src.linger_ms or 0
   local node = C.ngt_zmq_node_new(menu.menu, src.endpoint, zo, e)
   if node == nil then return nil, core.msg(e) end
   for _, s in ipairs(sinks) do
      if C.ngt_zmq_node_sink(node, s.stream, s.endpoint, e) < 0 then
         C.ngt_zmq_node_free(node)
         return nil, core.msg(e)
      end
   end
   if opts.recorder ~= nil then C.ngt_zmq_node_chain(node, C.ngt_recorder_sink, opts.recorder) end
   local ro = ffi.new("ngt_run_opts")
   ro.threads = opts.threads or 0
   ro.capacity = opts.batch or 256
   ro.batches = opts.batches or 0
   ro.in_order = 1
   ro.sink = C.ngt_zmq_node_sink_fn
   ro.sink_user = node
   -- st: what a reload (control.lua) replaces between batches
   local run = require "ngt.run"
   local st = { menu = menu, path = opts.path, recorder = opts.recorder, old = {},
                make_runner = run.runner_maker(ro) }
   local rerr
   st.runner, rerr = st.make_runner(menu)
   if not st.runner then C.ngt_zmq_node_free(node) return nil, rerr end
   if core.in_binary then C.ngt_cli_catch_signals() end
   if C.ngt_zmq_node_start(node, st.runner, e) < 0 then
      local msg = core.msg(e)
      C.ngt_zmq_node_free(node)
      C.ngt_runner_free(st.runner)
      return nil, msg
   end
   -- a ZeroMQ source takes a new input schema: messages of the old one are refused from then on
   st.src = { reschema = function() return true end }
   -- the sinks wanted for a menu: --sink ones as given, else the script's (ngt.sink.zmq), for the
   -- streams it has
   local function wanted(m)
      local has = {}
      for i = 0, C.ngt_menu_nstreams(m.menu) - 1 do has[ffi.string(C.ngt_menu_stream_name(m.menu, i))] = true end
      local out = {}
      for _, s in ipairs(sinks_given and sinks or m.spec.sinks or {}) do
         if has[s.stream] then out[#out + 1] = s end
      end
      return out
   end
   local live = wanted(menu)
   -- a reload: the source waits between messages while the old runner drains, then the node
   -- decodes, runs and sends with the new menu (control.lua frees the old runner); sinks of
   -- streams the new menu lacks send an end of stream, those it adds are opened
   function st.switch(new, r)
      C.ngt_zmq_node_pause(node)
      C.ngt_runner_drain(st.runner)
      if C.ngt_zmq_node_retarget(node, new.menu, r, e) < 0 then
         local msg = core.msg(e)
         C.ngt_zmq_node_resume(node)
         return nil, "reload: " .. msg
      end
      local want, key, warn = wanted(new), {}, nil
      for _, s in ipairs(want) do key[s.stream .. "\0" .. s.endpoint] = true end
      for _, s in ipairs(live) do
         if not key[s.stream .. "\0" .. s.endpoint] then C.ngt_zmq_node_sink_detach(node, s.stream, s.endpoint, e) end
      end
      for _, s in ipairs(want) do
         if C.ngt_zmq_node_sink(node, s.stream, s.endpoint, e) < 0 then
            warn = (warn and warn .. "; " or "") .. core.msg(e)
         end
      end
      live = want
      C.ngt_zmq_node_resume(node)
      if warn then io.stderr:write("ngt run: reload: ", warn, "\n") end
      return true, warn and "sinks not opened: " .. warn
   end
   local stats = ffi.gc(C.ngt_stats_new(menu.menu), C.ngt_stats_free)
   local zs = ffi.new("ngt_zmq_stats")
   local ctl = opts.control
   if ctl then ctl:attach(menu, opts.path) end
   local t0 = run.now()
   local last, interrupted, paused = t0, false, false
   -- the main thread stays free: it waits in slices and looks at the signal flag and the control
   -- requests between them
   while C.ngt_zmq_node_wait(node, paused and 0 or 50) == 0 do
      if core.in_binary and C.ngt_cli_interrupted() ~= 0 then
         interrupted = true
         C.ngt_zmq_node_stop(node)
      end
      local act = ctl and ctl:tick(st)
      if act == "stop" then C.ngt_zmq_node_stop(node) end
      if (act == "pause") ~= paused then
         paused = act == "pause"
         if paused then C.ngt_zmq_node_pause(node) else C.ngt_zmq_node_resume(node) end
      end
      if opts.progress then
         local t = run.now()
         if t - last > 0.25 then
            last = t
            C.ngt_zmq_node_stats(node, zs)
            io.stdout:write(string.format("\r  %d messages, %d events in, %d refused   ",
               tonumber(zs.messages), tonumber(zs.events), tonumber(zs.refused_messages)))
            io.stdout:flush()
         end
      end
   end
   C.ngt_zmq_node_finish(node, e)
   if ctl then ctl:attach(nil) end
   local wall = run.now() - t0
   C.ngt_zmq_node_stats(node, zs)
   C.ngt_runner_free(st.runner)
   C.ngt_zmq_node_free(node)
   if opts.progress then io.stdout:write("\r" .. string.rep(" ", 70) .. "\r") end
   local res = run.finish(st, menu, stats)
   res.wall, res.interrupted, res.zmq = wall, interrupted, zs
   return res
end

-- API: the source statistics as a report section (plain data, ordered for JSON).
function _M.section(zs)
   local by = { __order = {} }
   for i, name in ipairs(_M.REASONS) do
      by.__order[i] = name
      by[name] = tonumber(zs.refused_by[i])
   end
   return { __order = { "messages", "events", "refused_messages", "refused_events", "refused_by",
                        "lost_upstream", "ends", "epochs", "batches", "sent_messages", "sent_events",
                        "undelivered_events", "first_error" },
            messages = tonumber(zs.messages), events = tonumber(zs.events),
            refused_messages = tonumber(zs.refused_messages), refused_events = tonumber(zs.refused_events),
            refused_by = by, lost_upstream = tonumber(zs.lost_upstream), ends = tonumber(zs.ends),
            epochs = tonumber(zs.epochs), batches = tonumber(zs.batches),
            sent_messages = tonumber(zs.sent_messages), sent_events = tonumber(zs.sent_events),
            undelivered_events = tonumber(zs.undelivered_events),
            first_error = ffi.string(zs.first_error) }
end

-- API: the section as text lines for the terminal report.
function _M.text(sec)
   local parts = {}
   for _, name in ipairs(_M.REASONS) do
      if sec.refused_by[name] > 0 then parts[#parts + 1] = name .. " " .. sec.refused_by[name] end
   end
   local s = string.format("source   %d messages, %d events in; refused %d messages (%d events)%s; lost upstream %d; %d end of stream\n",
      sec.messages, sec.events, sec.refused_messages, sec.refused_events,
      #parts > 0 and " [" .. table.concat(parts, ", ") .. "]" or "", sec.lost_upstream, sec.ends)
   if sec.first_error ~= "" then s = s .. "         first refusal: " .. sec.first_error .. "\n" end
   s = s .. string.format("sinks    %d messages, %d events sent\n", sec.sent_messages, sec.sent_events)
   if sec.undelivered_events > 0 then
      s = s .. string.format("         %d events NOT delivered (a receiver took nothing within the linger)\n",
                             sec.undelivered_events)
   end
   return s
end

return _M
