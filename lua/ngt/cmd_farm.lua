-- ngt/cmd_farm.lua: `ngt farm setup|status|stop|prescale COLUMN|swap MODEL FILE --farm URL
-- --stream NAME`: the farm's streams and consumer, its state (consumer info and node heartbeats),
-- and control to every node through the farm's control subject, each node's reply printed
-- (docs/farm.md).
local args = require "ngt.args"

local HELP = [[
usage: ngt farm VERB --farm URL --stream NAME [options]
  setup                create the streams and the consumer when missing, check them otherwise
  status               pending, ack pending, redelivered (consumer info) and each node's last
                       heartbeat: messages, redelivered, events, poisoned, swaps, models
  stop                 every node finishes its fetch and exits
  prescale COLUMN      every node switches to prescale column COLUMN ('-': the chains' own)
  swap MODEL FILE      every node loads FILE (a path each node can read) as the new version of
                       MODEL, validates it off its processing loop and publishes it; a node that
                       cannot keeps its version and says why
  --backend B          swap: the new version's backend (default: the current version's)
  --ack-wait-ms MS     setup: the consumer's AckWait (default 30000)
  --max-deliver N      setup: the consumer's MaxDeliver (default 5)
  --dup-window-ms MS   setup: the streams' duplicate (message id) window (default 120000)
  --wait-ms MS         status: how long to listen for heartbeats (default 1500); stop, prescale,
                       swap: how long to wait for the nodes' replies (default 30000)
  --nodes N            stop, prescale, swap: wait for N nodes' replies (default: those that
                       answer within the first 2 s)
stop, prescale and swap print each node's reply ("node ID: ok: ..." or "node ID: failed: ...")
and exit 1 when a node failed, none replied or fewer than --nodes did.
]]

return function(list)
   local opts, pos = args.parse(list, { farm = 1, stream = 1, ["ack-wait-ms"] = 1, ["max-deliver"] = 1,
                                        ["wait-ms"] = 1, ["dup-window-ms"] = 1, nodes = 1, backend = 1 }, {})
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
   elseif verb == "stop" or verb == "prescale" or verb == "swap" then
      local cmd = verb
      if verb == "prescale" then
         if not pos[2] or pos[3] then args.eprint("ngt farm: prescale needs COLUMN ('-': the chains' own)") return 2 end
         cmd = "prescale " .. pos[2]
      elseif verb == "swap" then
         local model, file = pos[2], pos[3]
         if not model or not file or pos[4] then args.eprint("ngt farm: swap needs MODEL FILE (ngt farm --help)") return 2 end
         if model:find("%s") or (opts.backend and opts.backend:find("%s")) then
            args.eprint("ngt farm: swap: a model or backend name has no spaces") return 2
         end
         -- the file as the nodes see it: absolute when this side can resolve it
         if file:sub(1, 1) ~= "/" then
            pcall(ffi.cdef, "char *getcwd(char *buf, size_t size);")
            local cwd = ffi.new("char[4096]")
            if ffi.C.getcwd(cwd, 4096) ~= nil then file = ffi.string(cwd) .. "/" .. file end
         end
         cmd = string.format("swap %s %s %s", model, opts.backend or "-", file)
      elseif pos[2] then
         args.eprint("ngt farm: stop takes no argument") return 2
      end
      local wait = args.number(opts, "wait-ms", 30000, { min = 1 })
      local want = args.number(opts, "nodes", 0, { min = 0 })
      local size = 256 * 1024
      local buf = ffi.new("char[?]", size)
      local ok, failed = ffi.new("int[1]"), ffi.new("int[1]")
      if C.ngt_farm_request(fo, cmd, want, wait, buf, size, ok, failed, e) < 0 then
         args.eprint("ngt farm: ", core.msg(e)) return 1
      end
      io.write(ffi.string(buf))
      local replies = ok[0] + failed[0]
      io.write(string.format("%s: %d nodes ok, %d failed\n", verb, ok[0], failed[0]))
      if replies == 0 then
         args.eprint("ngt farm: no node replied ", want > 0 and ("within " .. wait .. " ms")
            or "within the first 2 s (are nodes running? --nodes N waits --wait-ms for N)")
         return 1
      end
      if want > 0 and replies < want then
         args.eprint(string.format("ngt farm: %d of %d nodes replied within %d ms", replies, want, wait)) return 1
      end
      if failed[0] > 0 then return 1 end
   else
      args.eprint("ngt farm: unknown verb '", verb, "' (setup, status, stop, prescale, swap)") return 2
   end
   return 0
end
