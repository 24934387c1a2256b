-- ngt/farm_recv.lua: `ngt recv --farm URL --stream NAME --menu MENU.lua`: the results stream from
-- its start; duplicates recognised by their ids; farm totals in = accepted + rejected + errored
-- over unique results; poisoned messages listed; with --output DIR the unique results written as
-- ngt run --output writes them, in event-id order. Exit 1 when the totals are incomplete.
local args = require "ngt.args"

return function(opts)
   local ends = tonumber(opts.ends or 1)
   local timeout = opts.timeout and tonumber(opts.timeout)
   if not ends or ends < 1 or (opts.timeout and not timeout) then
      args.eprint("ngt recv: --ends and --timeout expect numbers") return 2
   end
   local farm = require "ngt.farm"
   local core = require "ngt.core"
   local ffi, C = core.ffi, core.C
   local fo, ferr = farm.opts(opts)
   if not fo then args.eprint("ngt recv: ", ferr) return 2 end
   local menu, err = require("ngt").load(opts.menu)
   if not menu then args.eprint(err) return 1 end
   local npyio
   if opts.output then -- checked before reading, not after
      npyio = require "ngt.npyio" -- cdefs ngt_npy.h (ngt_npy_write writes --output)
      local ok, why = npyio.check_menu(menu)
      if ok then ok, why = npyio.check_dir(opts.output) end
      if not ok then args.eprint("ngt recv: ", why) menu:close() return 2 end
   end
   local e = core.err()
   local r = C.ngt_farm_receiver_new(fo, menu.menu, e)
   if r == nil then args.eprint("ngt recv: ", core.msg(e)) menu:close() return 1 end
   if opts.output then C.ngt_farm_receiver_keep(r) end
   if core.in_binary then C.ngt_cli_catch_signals() end
   local run = require "ngt.run"
   local t = ffi.new("ngt_farm_totals")
   local last, status, refused_shown = run.now(), 0, 0
   while true do
      C.ngt_farm_receiver_totals(r, t)
      if tonumber(t.ends) >= ends and t.ends_complete == t.ends then break end
      if core.in_binary and C.ngt_cli_interrupted() ~= 0 then status = 1 break end
      local rc = C.ngt_farm_receiver_next(r, 100, e)
      if rc < 0 then
         refused_shown = refused_shown + 1
         if refused_shown <= 10 then args.eprint("ngt recv: refused a record: ", core.msg(e)) end
         if rc ~= -4 then status = 1 break end
      end
      if rc ~= 0 then last = run.now() end
      if timeout and run.now() - last > timeout then
         args.eprint(string.format("ngt recv: no result for %g s; stopping with %d of %d ended streams complete",
            timeout, tonumber(t.ends_complete), ends))
         status = 1
         break
      end
   end
   if status == 0 and C.ngt_farm_receiver_drain(r, 5000, e) < 0 then
      args.eprint("ngt recv: ", core.msg(e)) status = 1
   end
   C.ngt_farm_receiver_totals(r, t)
   local m = menu.menu
   local streams = {}
   for s = 0, C.ngt_menu_nstreams(m) - 1 do
      local name = ffi.string(C.ngt_menu_stream_name(m, s))
      local n = tonumber(C.ngt_farm_receiver_events(r, s))
      io.write(string.format("%-16s %d events\n", name, n))
      streams[#streams + 1] = string.format('{"name": "%s", "events": %d}', name, n)
   end
   local f = function(k) return tonumber(t[k]) end
   io.write(string.format("farm totals: in %d = accepted %d + rejected %d + errored %d (unique results)\n",
      f "in", f "accepted", f "rejected", f "errored"))
   io.write(string.format("records %d, duplicates %d, refused %d, poisoned %d (%d events), nodes %d, senders %d (%d ended, %d complete)\n",
      f "records", f "duplicates", f "refused", f "poisoned", f "poisoned_events", f "nodes", f "pairs",
      f "ends", f "ends_complete"))
   local need = tonumber(C.ngt_farm_receiver_poison(r, nil, 0))
   local poison = ""
   if need > 0 then
      local buf = ffi.new("char[?]", need + 1)
      C.ngt_farm_receiver_poison(r, buf, need + 1)
      poison = ffi.string(buf)
      io.write("poisoned:\n", (poison:gsub("[^\n]+", "  %0")))
   end
   if f "in" ~= f "accepted" + f "rejected" + f "errored" then
      args.eprint("ngt recv: totals do not add up") status = 1
   end
   if opts.output then
      if C.ngt_farm_receiver_write(r, opts.output, C.ngt_npy_write, e) < 0 then
         args.eprint("ngt recv: ", core.msg(e)) status = 1
      elseif C.ngt_menu_nmodels(m) > 0 then -- the model order of all/ngt.models.npy, as ngt run
         local mf = io.open(opts.output .. "/all/ngt.models.txt", "w")
         if not mf then args.eprint("ngt recv: cannot write ", opts.output, "/all/ngt.models.txt") status = 1
         else
            for k = 0, C.ngt_menu_nmodels(m) - 1 do mf:write(ffi.string(C.ngt_menu_model_name(m, k)), "\n") end
            mf:close()
         end
      end
   end
   if opts.json then
      local j = io.open(opts.json, "w")
      if j then
         local keys = { "records", "duplicates", "refused", "in", "accepted", "rejected", "errored", "poisoned",
                        "poisoned_events", "ends", "ends_complete", "pairs", "nodes" }
         local parts = {}
         for _, k in ipairs(keys) do parts[#parts + 1] = string.format('"%s": %d', k, f(k)) end
         j:write(string.format('{%s, "streams": [%s]}\n', table.concat(parts, ", "), table.concat(streams, ", ")))
         j:close()
      end
   end
   C.ngt_farm_receiver_free(r)
   menu:close()
   return status
end
