-- ngt/cmd_farm.lua: `ngt farm setup|status|stop|prescale COLUMN --farm URL --stream NAME`: the
-- farm's streams and consumer, its state (consumer info and node heartbeats), and control to every
-- node through the farm's control subject (docs/farm.md).
local args = require "ngt.args"

local HELP = [[
usage: ngt farm VERB --farm URL --stream NAME [options]
  setup                create the streams and the consumer when missing, check them otherwise
  status               pending, ack pending, redelivered (consumer info) and each node's last
                       heartbeat: messages, redelivered, events, poisoned
  stop                 every node finishes its fetch and exits
  prescale COLUMN      every node switches to prescale column COLUMN ('-': the chains' own)
  --ack-wait-ms MS     setup: the consumer's AckWait (default 30000)
  --max-deliver N      setup: the consumer's MaxDeliver (default 5)
  --dup-window-ms MS   setup: the streams' duplicate (message id) window (default 120000)
  --wait-ms MS         status: how long to listen for heartbeats (default 1500)
]]

return function(list)
   local opts, pos = args.parse(list, { farm = 1, stream = 1, ["ack-wait-ms"] = 1, ["max-deliver"] = 1,
                                        ["wait-ms"] = 1, ["dup-window-ms"] = 1 }, {})
   if not opts then args.eprint("ngt farm: ", pos) return 2 end
   if opts.help then io.write(HELP) return 0 end
   local verb = pos[1]
   if not verb or not opts.farm or not opts.stream then
      args.eprint("ngt farm: expected VERB --farm URL --stream NAME (ngt farm --help)") return 2
   end
   local farm = require "ngt.farm"
   local core = require "ngt.core"
   local ffi, C = core.ffi, core.C
   if verb == "setup" then opts.create = true end
   local fo, ferr = farm.opts(opts)
   if not fo then args.eprint("ngt farm: ", ferr) return 2 end
   local e = core.err()
   if verb == "setup" then
      if C.ngt_farm_setup(fo, e) < 0 then args.eprint("ngt farm: ", core.msg(e)) return 1 end
      io.write("farm ", opts.stream, " ready\n")
   elseif verb == "status" then
      local buf = ffi.new("char[?]", C.NGT_FARM_TEXT)
      if C.ngt_farm_status(fo, tonumber(opts["wait-ms"] or 1500), buf, C.NGT_FARM_TEXT, e) < 0 then
         args.eprint("ngt farm: ", core.msg(e)) return 1
      end
      io.write(ffi.string(buf))
   elseif verb == "stop" or verb == "prescale" then
      local cmd = verb
      if verb == "prescale" then
         if not pos[2] then args.eprint("ngt farm: prescale needs COLUMN ('-': the chains' own)") return 2 end
         cmd = "prescale " .. pos[2]
      end
      if C.ngt_farm_control(fo, cmd, e) < 0 then args.eprint("ngt farm: ", core.msg(e)) return 1 end
      io.write("sent '", cmd, "' to farm ", opts.stream, "\n")
   else
      args.eprint("ngt farm: unknown verb '", verb, "' (setup, status, stop, prescale)") return 2
   end
   return 0
end
