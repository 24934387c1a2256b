-- ngt/cmd_send.lua: `ngt send ENDPOINT --menu MENU.lua`: events of the menu's input schema (the
-- built-in generator, or recorded samples with --input DIR) to a node as wire format v1 messages,
-- one per batch, ending with an end-of-stream message.
local args = require "ngt.args"

local HELP = [[
usage: ngt send ENDPOINT --menu MENU.lua [options]
       ngt send --farm URL --stream NAME --menu MENU.lua [options]
  --menu MENU.lua      the menu whose input schema the events have (required)
  --input DIR          recorded samples (DIR/<column>.npy, as ngt run --input); default: the
                       built-in generator
  --events N           events to send (default 100000; with --input: all of them)
  --batch N            events per message (default 256)
  --rate HZ            events per second (default: as fast as the node takes them)
  --seed N             seed of the built-in generator (default 1)
  --source-id N        source id (default 0: the event ids of ngt run --input)
  --epoch N            source epoch (default: the start time in ns)
  --farm URL           publish into a farm's input stream on the NATS server URL (docs/farm.md),
  --stream NAME        the farm's name; --create makes the streams and consumer when missing
  --ack-wait-ms MS     with --create: the consumer's AckWait; --max-deliver N: its MaxDeliver
ENDPOINT is connected to (a leading '@' binds). The sender blocks while the node's queue is full
(back-pressure); it ends with an end-of-stream message and waits until everything has left.
]]

return function(list)
   local opts, pos = args.parse(list, { menu = 1, input = 1, events = 1, batch = 1, rate = 1, seed = 1,
                                        ["source-id"] = 1, epoch = 1, farm = 1, stream = 1,
                                        ["ack-wait-ms"] = 1, ["max-deliver"] = 1,
                                        ["dup-window-ms"] = 1 }, { create = true })
   if not opts then args.eprint("ngt send: ", pos) return 2 end
   if opts.help then io.write(HELP) return 0 end
   if (#pos ~= 1 and not opts.farm) or (opts.farm and #pos ~= 0) or not opts.menu then args.eprint("ngt send: expected ENDPOINT --menu MENU.lua (ngt send --help)") return 2 end
   local function num(name, default, min)
      local v = opts[name]
      if v == nil then return default end
      local n = tonumber(v)
      if not n or n < min or (name ~= "rate" and n ~= math.floor(n)) then
         error({ usage = "--" .. name .. " expects a number >= " .. min .. ", got '" .. v .. "'" })
      end
      return n
   end
   local events, batch, rate = num("events", nil, 1), num("batch", 256, 1), num("rate", nil, 0)
   local core = require "ngt.core"
   local ffi, C = core.ffi, core.C
   require "ngt.zmq"
   local menu, err = require("ngt").load(opts.menu)
   if not menu then args.eprint(err) return 1 end
   local src
   if opts.input then
      src, err = require("ngt.npyio").source(menu, opts.input, events)
      if not src then args.eprint("ngt send: ", err) menu:close() return 1 end
   else
      src = require("ngt.source").new(menu, { events = events or 100000, seed = num("seed", 1, 0) })
   end
   local e = core.err()
   local run = require "ngt.run"
   local epoch = opts.epoch and ffi.new("uint64_t", num("epoch", 0, 0)) or ffi.new("uint64_t", run.now() * 1e9)
   local z, send, finish, free
   if opts.farm then
      local farm = require "ngt.farm"
      local fo, ferr = farm.opts(opts)
      if not fo then args.eprint("ngt send: ", ferr) menu:close() return 2 end
      z = C.ngt_farm_sender_new(fo, menu.schema, num("source-id", 0, 0), epoch, e)
      send, finish, free = C.ngt_farm_sender_send, C.ngt_farm_sender_finish, C.ngt_farm_sender_free
   else
      z = C.ngt_zmq_sender_new(pos[1], menu.schema, num("source-id", 0, 0), epoch, e)
      send, free = C.ngt_zmq_sender_send, C.ngt_zmq_sender_free
   end
   if z == nil then args.eprint("ngt send: ", core.msg(e)) menu:close() return 1 end
   local b = ffi.gc(C.ngt_batch_new(menu.schema, batch, e), C.ngt_batch_free)
   local sent, t0, status = 0, run.now(), 0
   while true do
      local n = src:fill(b)
      if n == 0 then break end
      if send(z, b, 0, e) < 0 then args.eprint("ngt send: ", core.msg(e)) status = 1 break end
      sent = sent + n
      if rate and rate > 0 then
         local ahead = sent / rate - (run.now() - t0)
         if ahead > 0 then ffi.C.usleep(math.floor(ahead * 1e6)) end
      end
   end
   if status == 0 and send(z, nil, 1, e) < 0 then args.eprint("ngt send: ", core.msg(e)) status = 1 end
   if status == 0 and finish and finish(z, e) < 0 then args.eprint("ngt send: ", core.msg(e)) status = 1 end
   free(z)
   io.write(string.format("sent %d events in %.3f s\n", sent, run.now() - t0))
   menu:close()
   return status
end
