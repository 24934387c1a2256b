-- ngt/farm_run.lua: `ngt run MENU.lua --farm URL --stream NAME`: the menu as a farm node, then
-- the usual report with the farm section.
local args = require "ngt.args"

return function(menu, opts, menu_path, threads, batch)
   local farm = require "ngt.farm"
   local core = require "ngt.core"
   local fo, ferr = farm.opts(opts)
   if not fo then args.eprint("ngt run: ", ferr) menu:close() return 2 end
   local idle = args.number(opts, "idle-exit", nil, { min = 0, real = true })
   local progress = not opts.quiet and core.C.isatty(1) == 1
   local res, err = farm.serve(menu, fo, { idle_s = idle, progress = progress })
   if not res then args.eprint("ngt run: ", err) menu:close() return 1 end
   local stats = core.ffi.gc(core.C.ngt_stats_new(menu.menu), core.C.ngt_stats_free)
   core.C.ngt_stats_read(menu.menu, stats)
   local report = require "ngt.report"
   local r = report.build(menu, stats, { menu_path = menu_path, threads = 1, batch = batch,
      input_rate = tonumber(opts["input-rate"]) or menu.spec.input_rate, wall = res.wall,
      interrupted = res.interrupted })
   r.farm = farm.section(res.farm)
   r.__order[#r.__order + 1] = "farm"
   if not opts.quiet then io.write(report.text(r), farm.text(r.farm)) end
   local status = 0
   local errs = report.errors_text(r)
   if errs ~= "" then
      for line in errs:gmatch("[^\n]+") do args.eprint("ngt run: ", line) end
      if not opts["allow-errors"] then status = 3 end
   end
   if opts.json then
      local f, e = io.open(opts.json, "w")
      if not f then args.eprint("ngt run: ", e) status = 1 else f:write(report.json(r)) f:close() end
   end
   menu:close()
   return status
end
