-- ngt/cmd_top.lua: `ngt top ENDPOINT`: a live terminal view of a node through its control
-- socket: event rates and totals, per-chain and per-stream rates, step latency p50/p99, model
-- versions (and shadows), errors. Refreshed every --interval seconds until ^C or the node ends.
local HELP = [[
usage: ngt top ENDPOINT [--interval S] [--count N] [--server-key K --secret-key K]
  Shows the node's rates per chain and stream, step latency p50/p99, model versions and
  errors, refreshed every S seconds (default 1); --count N stops after N refreshes.
]]

local args_ = require "ngt.args"
local eprint = args_.eprint
local control = require "ngt.control"
local json = require "ngt.json"

local function rate(now, before, key, dt)
   if not before or dt <= 0 then return 0 end
   return ((now[key] or 0) - (before[key] or 0)) / dt
end

local function by_name(list)
   local t = {}
   for _, x in ipairs(list or {}) do t[x.name] = x end
   return t
end

local function view(s, prev, dt, ep)
   local out = {}
   local function p(...) out[#out + 1] = string.format(...) end
   local n = s.node or {}
   p("ngt top %s   state %s   up %.0f s   reloads %d", ep, s.state or "?", s.uptime_s or 0, s.reloads or 0)
   p("events  in %d  accepted %d  rejected %d  errored %d   %.0f events/s", n["in"] or 0,
     n.accepted or 0, n.rejected or 0, n.errored or 0, rate(n, prev and prev.node, "in", dt))
   if s.menu then p("menu    %s   column '%s'   hash %s", s.menu.path, s.menu.column, s.menu.hash) end
   p("")
   p("%-28s %12s %12s %10s %10s", "chain", "passed", "passed/s", "prescale", "errored")
   local pc = prev and by_name(prev.chains) or {}
   for _, c in ipairs(s.chains or {}) do
      -- prescale 0: the chain has no prescale step
      p("%-28s %12d %12.1f %10s %10d", c.name, c.passed, rate(c, pc[c.name], "passed", dt),
        c.prescale > 0 and tostring(c.prescale) or "-", c.errored)
   end
   p("")
   p("%-28s %12s %12s", "stream", "events", "events/s")
   local ps = prev and by_name(prev.streams) or {}
   for _, x in ipairs(s.streams or {}) do
      p("%-28s %12d %12.1f", x.name, x.accepted, rate(x, ps[x.name], "accepted", dt))
   end
   p("")
   p("%-40s %10s %10s %10s %8s", "step", "calls", "p50 us", "p99 us", "errors")
   for _, x in ipairs(s.steps or {}) do
      p("%-40s %10d %10.1f %10.1f %8d", x.name:sub(1, 40), x.calls, x.p50_us, x.p99_us, x.errors + x.timeouts)
      if x.first_error then p("  first error: %s", x.first_error) end
   end
   if s.models and #s.models > 0 then
      p("")
      p("%-20s %8s %18s  %s", "model", "version", "hash", "file")
      for _, m in ipairs(s.models) do
         p("%-20s %8d %18s  %s", m.name, m.serial, m.hash, m.file)
         if m.shadow then
            p("  shadow %s: %d events, %d identical, max |diff| %.3g, %d errors", m.shadow.hash,
              m.shadow.events, m.shadow.identical, m.shadow.max_abs_diff, m.shadow.errors)
         end
      end
   end
   return table.concat(out, "\n") .. "\n"
end

-- API: run(list) -> exit status.
return function(list)
   local opt, pos = args_.parse(list, { interval = 1, count = 1, ["server-key"] = 1, ["secret-key"] = 1 })
   if not opt then eprint("ngt top: ", pos, " (ngt top --help)") return 2 end
   if opt.help then io.write(HELP) return 0 end
   if #pos ~= 1 then eprint("ngt top: expected ENDPOINT (ngt top --help)") return 2 end
   local interval = tonumber(opt.interval or 1)
   local count = opt.count and tonumber(opt.count)
   if not interval or interval <= 0 then error({ usage = "--interval expects seconds > 0" }) end
   local copts = { timeout_ms = 3000, server_key = opt["server-key"], client_secret = opt["secret-key"] }
   local core = require "ngt.core"
   local tty = core.C.isatty(1) == 1
   local now = require("ngt.run").now
   local prev, tprev, shown = nil, nil, 0
   while not count or shown < count do
      local reply, err = control.request(pos[1], '{"cmd":"stats"}', copts)
      if not reply then
         if shown > 0 then return 0 end -- the node ended
         eprint("ngt top: ", err) return 1
      end
      local s, jerr = json.decode(reply)
      if not s or not s.ok then eprint("ngt top: ", jerr or (s and s.error) or "bad reply") return 1 end
      local t = now()
      local text = view(s, prev, tprev and t - tprev or 0, pos[1])
      if tty then io.write("\27[H\27[2J") end
      io.write(text)
      io.flush()
      shown = shown + 1
      prev, tprev = s, t
      if core.in_binary and core.C.ngt_cli_interrupted() ~= 0 then break end
      if not count or shown < count then control.sleep_ms(math.floor(interval * 1000)) end
   end
   return 0
end
