-- ngt/cmd_recv.lua: `ngt recv ENDPOINT --menu MENU.lua`: a node's output messages, checked as the
-- node checks its input; prints the events per stream, writes them as `ngt run --output` does,
-- stops at end of stream.
local args = require "ngt.args"

local HELP = [[
usage: ngt recv ENDPOINT --menu MENU.lua [options]
       ngt recv --farm URL --stream NAME --menu MENU.lua [options]
  --menu MENU.lua      the node's menu (its schema and streams; required)
  --output DIR         write DIR/<stream>/<column>.npy per stream received, as ngt run --output
                       (with --farm: every stream and DIR/all/ngt.*.npy, in event-id order)
  --ends N             end-of-stream messages to wait for (one per sink; default 1)
  --timeout S          give up after S seconds without a message (default: wait)
  --json FILE          per-stream counts, refused messages and latency as JSON
  --farm URL           read a farm's results stream (docs/farm.md) from its start: duplicates
  --stream NAME        recognised by their ids, farm totals from unique results; stops once
                       --ends N senders' streams ended and every event of them is counted
ENDPOINT is connected to (a leading '@' binds). ^C stops and still writes what came.
]]

return function(list)
   local opts, pos = args.parse(list, { menu = 1, output = 1, ends = 1, timeout = 1, json = 1, farm = 1,
                                        stream = 1 }, {})
   if not opts then args.eprint("ngt recv: ", pos) return 2 end
   if opts.help then io.write(HELP) return 0 end
   if opts.farm and #pos == 0 and opts.menu then return require("ngt.farm_recv")(opts) end
   if #pos ~= 1 or not opts.menu then args.eprint("ngt recv: expected ENDPOINT --menu MENU.lua (ngt recv --help)") return 2 end
   local ends = tonumber(opts.ends or 1)
   local timeout = opts.timeout and tonumber(opts.timeout)
   if not ends or ends < 1 or (opts.timeout and not timeout) then
      args.eprint("ngt recv: --ends and --timeout expect numbers") return 2
   end
   local core = require "ngt.core"
   local ffi, C = core.ffi, core.C
   require "ngt.zmq"
   require "ngt.npyio" -- cdefs ngt_npy.h (ngt_npy_write writes --output)
   local menu, err = require("ngt").load(opts.menu)
   if not menu then args.eprint(err) return 1 end
   local e = core.err()
   local r = C.ngt_zmq_receiver_new(pos[1], menu.menu, e)
   if r == nil then args.eprint("ngt recv: ", core.msg(e)) menu:close() return 1 end
   if core.in_binary then C.ngt_cli_catch_signals() end
   local run = require "ngt.run"
   local last, status = run.now(), 0
   while tonumber(C.ngt_zmq_receiver_ends(r)) < ends do
      if core.in_binary and C.ngt_cli_interrupted() ~= 0 then break end
      local rc = C.ngt_zmq_receiver_next(r, 100, e)
      if rc < 0 then args.eprint("ngt recv: refused a message: ", core.msg(e)) end
      if rc ~= 0 then last = run.now() end
      if timeout and run.now() - last > timeout then
         args.eprint(string.format("ngt recv: no message for %g s; stopping", timeout))
         status = 1
         break
      end
   end
   local m = menu.menu
   local p50, p99 = ffi.new("double[1]"), ffi.new("double[1]")
   C.ngt_zmq_receiver_latency(r, p50, p99)
   local json_streams = {}
   for s = 0, C.ngt_menu_nstreams(m) - 1 do
      if C.ngt_zmq_receiver_seen(r, s) ~= 0 then
         local name = ffi.string(C.ngt_menu_stream_name(m, s))
         local n = tonumber(C.ngt_zmq_receiver_events(r, s))
         io.write(string.format("%-16s %d events\n", name, n))
         json_streams[#json_streams + 1] = string.format('{"name": "%s", "events": %d}', name, n)
      end
   end
   local refused = tonumber(C.ngt_zmq_receiver_refused(r))
   io.write(string.format("refused %d messages; latency p50 %.1f us, p99 %.1f us\n", refused, p50[0], p99[0]))
   if opts.output and C.ngt_zmq_receiver_write(r, opts.output, C.ngt_npy_write, e) < 0 then
      args.eprint("ngt recv: ", core.msg(e)) status = 1
   end
   if opts.json then
      local f = io.open(opts.json, "w")
      if f then
         f:write(string.format('{"streams": [%s], "refused": %d, "ends": %d, "latency_us": {"p50": %.3f, "p99": %.3f}}\n',
            table.concat(json_streams, ", "), refused, tonumber(C.ngt_zmq_receiver_ends(r)), p50[0], p99[0]))
         f:close()
      end
   end
   C.ngt_zmq_receiver_free(r)
   menu:close()
   return status
end
