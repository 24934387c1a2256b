-- ngt/farm.lua: farm mode from Lua (modules/farm/ngt_farm.h fed to the FFI): a node's loop driven
-- from the main thread (one fetch per step; the signal flag and the idle timer looked at between
-- steps), the node's statistics as a report section, the option parsing shared by run, send, recv
-- and farm.
local core = require "ngt.core"
local ffi, C = core.ffi, core.C

local _M = {}

assert(core.cdef_module("ngt_farm.h"))

-- API: ngt_farm_opts from command-line options (farm = URL, stream, create, ack-wait, ...).
-- Returns the cdata (keeping its strings alive in _keep) or nil, err.
function _M.opts(o)
   if not o.farm then return nil, "--farm URL needs --stream NAME" end
   if not o.stream then return nil, "--farm needs --stream NAME (the farm's input stream)" end
   local fo = ffi.new("ngt_farm_opts")
   local url, stream = ffi.new("char[?]", #o.farm + 1, o.farm), ffi.new("char[?]", #o.stream + 1, o.stream)
   fo.url, fo.stream = url, stream
   fo.create = o.create and 1 or 0
   local function num(name, min) return require("ngt.args").number(o, name, 0, { min = min }) end
   fo.ack_wait_ms = num("ack-wait-ms", 1)
   fo.max_deliver = num("max-deliver", 1)
   fo.fetch = num("fetch", 1)
   fo.dup_window_ms = num("dup-window-ms", 1)
   fo.max_events = num("max-events", 1)
   fo.node_id = num("node-id", 0)
   _M._keep = { url, stream }
   return fo
end

_M.OPTION_NAMES = { farm = 1, stream = 1, ["ack-wait-ms"] = 1, ["max-deliver"] = 1, fetch = 1 }

-- API: runs a built menu as a farm node until a stop on the control subject, a signal, or
-- idle_s seconds without input. Returns { wall, interrupted, farm = ngt_farm_stats } or nil, err.
function _M.serve(menu, fo, opts)
   local e = core.err()
   local node = C.ngt_farm_node_new(menu.menu, fo, e)
   if node == nil then return nil, core.msg(e) end
   if core.in_binary then C.ngt_cli_catch_signals() end
   local run = require "ngt.run"
   local fs = ffi.new("ngt_farm_stats")
   local t0 = run.now()
   local last_work, last_msgs, last_print, swaps = t0, 0, t0, 0
   local interrupted, err = false, nil
   while true do
      if core.in_binary and C.ngt_cli_interrupted() ~= 0 then interrupted = true break end
      local rc = C.ngt_farm_node_step(node, 100, e)
      if rc < 0 then err = core.msg(e) break end
      if rc == 1 then break end
      C.ngt_farm_node_stats(node, fs)
      if tonumber(fs.swaps + fs.swaps_failed) ~= swaps then -- a swap ended: say how, on stderr
         swaps = tonumber(fs.swaps + fs.swaps_failed)
         io.stderr:write("ngt run: ", ffi.string(fs.last_swap), "\n")
      end
      local now = run.now()
      if tonumber(fs.messages) ~= last_msgs then last_msgs, last_work = tonumber(fs.messages), now end
      if opts.idle_s and now - last_work > opts.idle_s then break end
      if opts.progress and now - last_print > 0.25 then
         last_print = now
         io.stdout:write(string.format("\r  %d messages, %d events, %d poisoned   ",
            tonumber(fs.messages), tonumber(fs.events), tonumber(fs.poisoned)))
         io.stdout:flush()
      end
   end
   C.ngt_farm_node_stats(node, fs)
   local wall = run.now() - t0
   C.ngt_farm_node_free(node)
   if opts.progress then io.stdout:write("\r" .. string.rep(" ", 70) .. "\r") end
   if err then return nil, err end
   return { wall = wall, interrupted = interrupted, farm = fs }
end

local FIELDS = { "messages", "redelivered", "results", "events", "accepted", "rejected", "errored",
                 "naks", "poisoned", "retried", "server_duplicates", "swaps", "swaps_failed",
                 "ack_wait_ms", "max_deliver" }

-- API: the node's statistics as a report section (plain data, ordered for JSON).
function _M.section(fs)
   local sec = { __order = {} }
   for i, k in ipairs(FIELDS) do sec.__order[i] = k sec[k] = tonumber(fs[k]) end
   sec.__order[#sec.__order + 1] = "first_error"
   sec.first_error = ffi.string(fs.first_error)
   return sec
end

function _M.text(sec)
   local s = string.format("farm     %d messages (%d redelivered), %d results acknowledged; %d events: %d accepted, %d rejected, %d errored\n"
      .. "         %d handed back undecodable, %d poisoned (terminated), %d handed back unpublished, %d results the server already had; AckWait %d ms, MaxDeliver %d\n",
      sec.messages, sec.redelivered, sec.results, sec.events, sec.accepted, sec.rejected, sec.errored,
      sec.naks, sec.poisoned, sec.retried, sec.server_duplicates, sec.ack_wait_ms, sec.max_deliver)
   if sec.swaps + sec.swaps_failed > 0 then
      s = s .. string.format("         model swaps: %d published, %d refused (the old version kept)\n", sec.swaps, sec.swaps_failed)
   end
   if sec.first_error ~= "" then s = s .. "         first error: " .. sec.first_error .. "\n" end
   return s
end

return _M
