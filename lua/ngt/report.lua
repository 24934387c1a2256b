-- ngt/report.lua: the trigger report of a run (DESIGN.md section 15): built from a statistics
-- snapshot as plain data, printed as a table for a person or written as JSON. Times per event are
-- per input event, so chain and step times add up to the menu's time per event.
local core = require "ngt.core"
local json = require "ngt.json"
local bit = require "bit"
local ffi, C = core.ffi, core.C

local _M = {}

local function hex64(x)
   x = ffi.cast("uint64_t", x)
   return "0x" .. bit.tohex(tonumber(x / 4294967296ULL), 8) .. bit.tohex(tonumber(x % 4294967296ULL), 8)
end
_M.hex64 = hex64

local function obj(order, t)
   t.__order = order
   return t
end

-- API: the report table. info: menu_path, threads, batch, input_rate, wall, interrupted.
function _M.build(menu, stats, info)
   local m = menu.menu
   local tot = C.ngt_stats_totals(stats)
   local n_in = tonumber(tot["in"])
   local rate = info.input_rate
   local function frac(x) return n_in > 0 and x / n_in or 0 end
   local function hz(x) return rate and frac(x) * rate or json.null end
   local function per_event_us(ns) return n_in > 0 and tonumber(ns) / 1e3 / n_in or 0 end
   local r = obj({ "events", "input", "chains", "steps", "streams", "machine", "provenance", "run" }, {})
   r.events = obj({ "in", "accepted", "rejected", "errored" }, {
      ["in"] = n_in, accepted = tonumber(tot.accepted), rejected = tonumber(tot.rejected),
      errored = tonumber(tot.errored) })
   local refused = ffi.new("uint64_t[1]")
   local imsg = C.ngt_stats_input_error(stats, refused)
   r.input = obj({ "refused", "error" }, {
      refused = tonumber(refused[0]), error = imsg ~= nil and ffi.string(imsg) or json.null })
   r.chains = { __array = true }
   for i = 0, C.ngt_menu_nchains(m) - 1 do
      local c = C.ngt_stats_chain(stats, i)
      r.chains[#r.chains + 1] = obj({ "name", "seen", "passed", "prescaled", "errored", "unique",
                                      "accept_fraction", "rate_hz", "time_per_event_us" }, {
         name = ffi.string(C.ngt_menu_chain_name(m, i)), seen = tonumber(c.seen),
         passed = tonumber(c.passed), prescaled = tonumber(c.prescaled), errored = tonumber(c.errored),
         unique = tonumber(c.unique), accept_fraction = frac(tonumber(c.passed)),
         rate_hz = hz(tonumber(c.passed)), time_per_event_us = per_event_us(c.time_ns) })
   end
   r.steps = { __array = true }
   for i = 0, C.ngt_menu_nsteps(m) - 1 do
      local s = C.ngt_stats_step(stats, i)
      local name = ffi.string(C.ngt_menu_step_name(m, i))
      local fails = ffi.new("uint64_t[1]")
      local emsg = C.ngt_stats_step_error(stats, i, fails)
      r.steps[#r.steps + 1] = obj({ "name", "shared", "calls", "events_in", "events_passed", "errors",
                                    "failed_calls", "error", "timeouts", "time_per_event_us",
                                    "p50_us", "p99_us" }, {
         failed_calls = tonumber(fails[0]), error = emsg ~= nil and ffi.string(emsg) or json.null,
         name = name, shared = C.ngt_menu_step_producer(m, i) == 1, calls = tonumber(s.calls),
         events_in = tonumber(s.events_in), events_passed = tonumber(s.events_passed),
         errors = tonumber(s.errors), timeouts = tonumber(s.timeouts),
         time_per_event_us = per_event_us(s.time_ns), p50_us = s.p50_us, p99_us = s.p99_us })
   end
   r.streams = { __array = true }
   local ns = C.ngt_menu_nstreams(m)
   for a = 0, ns - 1 do
      local overlap = obj({}, {})
      for b = 0, ns - 1 do
         if b ~= a then
            local nm = ffi.string(C.ngt_menu_stream_name(m, b))
            overlap[nm] = tonumber(C.ngt_stats_overlap(stats, a, b))
            table.insert(overlap.__order, nm)
         end
      end
      local acc = tonumber(C.ngt_stats_stream(stats, a).accepted)
      r.streams[#r.streams + 1] = obj({ "name", "accepted", "accept_fraction", "rate_hz", "overlap" }, {
         name = ffi.string(C.ngt_menu_stream_name(m, a)), accepted = acc,
         accept_fraction = frac(acc), rate_hz = hz(acc), overlap = overlap })
   end
   r.machine = obj({ "cpu", "isa", "blas_kernel" }, {
      cpu = ffi.string(C.ngt_cpu_model()), isa = ffi.string(C.ngt_cpu_isa()),
      blas_kernel = ffi.string(C.ngt_blas_kernel()) })
   local models = obj({}, {})
   for _, md in ipairs(menu.model_files) do
      models[md.name] = hex64(C.ngt_registry_model_hash(menu.registry, md.name))
      table.insert(models.__order, md.name)
   end
   local column = ffi.string(C.ngt_menu_current_column(m))
   r.provenance = obj({ "ngt_version", "menu", "menu_hash", "schema_id", "models", "prescale_column",
                        "prescale_column_since_batch" }, {
      ngt_version = ffi.string(C.ngt_version()), menu = info.menu_path,
      menu_hash = hex64(C.ngt_menu_hash(m)), schema_id = hex64(C.ngt_schema_id(menu.schema)),
      models = models, prescale_column = column,
      prescale_column_since_batch = tonumber(C.ngt_stats_column_since(stats)) })
   local allocs, bytes = menu:lua_allocs()
   r.run = obj({ "threads", "batch", "wall_s", "events_per_s", "input_rate_hz", "interrupted",
                 "lua_steps", "lua_allocations", "lua_allocated_bytes" }, {
      threads = info.threads, batch = info.batch, wall_s = info.wall,
      events_per_s = info.wall > 0 and n_in / info.wall or 0, input_rate_hz = rate or json.null,
      interrupted = info.interrupted, lua_steps = #menu.lua_steps, lua_allocations = allocs,
      lua_allocated_bytes = bytes })
   return r
end

local function rate_text(x)
   if x == json.null or x == nil then return "-" end
   if x >= 1e6 then return string.format("%.2f MHz", x / 1e6) end
   if x >= 1e3 then return string.format("%.2f kHz", x / 1e3) end
   return string.format("%.1f Hz", x)
end

-- API: the report's failures as lines for a person ("" when none): each failing step's errored
-- events, failed calls and first message, and the input events refused with the first reason.
function _M.errors_text(r)
   local out = {}
   if r.input.refused > 0 then
      out[#out + 1] = string.format("input: %d events refused (bad collection counts); first: %s",
                                    r.input.refused, tostring(r.input.error))
   end
   for _, s in ipairs(r.steps) do
      if s.failed_calls > 0 then
         out[#out + 1] = string.format("step '%s': %d events errored in %d failed calls; first: %s",
                                       s.name, s.errors, s.failed_calls, tostring(s.error))
      end
   end
   return #out > 0 and table.concat(out, "\n") .. "\n" or ""
end

-- API: the report as text for a terminal.
function _M.text(r)
   local out = {}
   local function p(fmt, ...) out[#out + 1] = string.format(fmt, ...) end
   local pv, ev, run = r.provenance, r.events, r.run
   p("ngt %s  menu %s  hash %s  schema %s  prescale column %s", pv.ngt_version, pv.menu or "?",
     pv.menu_hash, pv.schema_id, pv.prescale_column == "" and "(chains' own)" or pv.prescale_column)
   p("machine  %s, %s, BLAS %s", r.machine.cpu, r.machine.isa, r.machine.blas_kernel)
   for name, h in pairs(pv.models) do if name ~= "__order" then p("model    %s %s", name, h) end end
   p("events   in %d = accepted %d + rejected %d + errored %d   (%d threads, batch %d, %.2f s, %.0f events/s%s)",
     ev["in"], ev.accepted, ev.rejected, ev.errored, run.threads, run.batch, run.wall_s,
     run.events_per_s, run.interrupted and ", interrupted" or "")
   if run.input_rate_hz ~= json.null then p("input    %s", rate_text(run.input_rate_hz)) end
   p("")
   p("%-22s %9s %9s %9s %7s %11s %11s %8s %9s", "chain", "seen", "passed", "prescaled", "errored",
     "accept", "rate", "unique", "us/event")
   for _, c in ipairs(r.chains) do
      p("%-22s %9d %9d %9d %7d %11.3e %11s %8d %9.3f", c.name, c.seen, c.passed, c.prescaled,
        c.errored, c.accept_fraction, rate_text(c.rate_hz), c.unique, c.time_per_event_us)
   end
   local shared = {}
   for _, s in ipairs(r.steps) do if s.shared then shared[#shared + 1] = s end end
   if #shared > 0 then
      p("")
      p("%-22s %9s %9s %7s %9s %9s %9s", "shared producer", "calls", "events", "errors", "us/event", "p50 us", "p99 us")
      for _, s in ipairs(shared) do
         p("%-22s %9d %9d %7d %9.3f %9.1f %9.1f", s.name, s.calls, s.events_in, s.errors,
           s.time_per_event_us, s.p50_us, s.p99_us)
      end
   end
   p("")
   p("%-12s %9s %11s %11s  %s", "stream", "accepted", "fraction", "rate", "overlap")
   for _, s in ipairs(r.streams) do
      local ov = {}
      for _, k in ipairs(s.overlap.__order) do ov[#ov + 1] = k .. " " .. s.overlap[k] end
      p("%-12s %9d %11.3e %11s  %s", s.name, s.accepted, s.accept_fraction, rate_text(s.rate_hz),
        table.concat(ov, ", "))
   end
   local errs = _M.errors_text(r)
   if errs ~= "" then
      p("")
      p("errors")
      out[#out + 1] = errs:sub(1, -2)
   end
   if run.lua_steps > 0 then
      p("")
      p("lua steps: %d, allocations through the Lua allocator %d (%d bytes)", run.lua_steps,
        run.lua_allocations, run.lua_allocated_bytes)
   end
   return table.concat(out, "\n") .. "\n"
end

-- API: the report as JSON text (DESIGN.md section 15 keys).
function _M.json(r) return json.encode(r) .. "\n" end

-- API: totals of the whole run when menus were reloaded: each menu's (those reloaded away, then
-- the last, r's own) and their sum, the node's. Sets r.node (also in the JSON).
function _M.node_totals(r, reloads)
   local keys = { "in", "accepted", "rejected", "errored" }
   local node = obj(keys, { ["in"] = 0, accepted = 0, rejected = 0, errored = 0 })
   local menus = { __array = true }
   local function add(path, t)
      local m = obj({ "menu", "in", "accepted", "rejected", "errored" }, { menu = path })
      for _, k in ipairs(keys) do
         m[k] = t[k]
         node[k] = node[k] + t[k]
      end
      menus[#menus + 1] = m
   end
   for _, x in ipairs(reloads) do add(x.path or "?", x.totals) end
   add("(last)", r.events)
   local out = obj({ "reloads", "menus", "totals" }, { reloads = #reloads, menus = menus, totals = node })
   table.insert(r.__order, "node")
   r.node = out
   return out
end

-- API: the node totals as text.
function _M.node_text(n)
   local out = { string.format("node totals over %d reload(s): in %d = accepted %d + rejected %d + errored %d",
      n.reloads, n.totals["in"], n.totals.accepted, n.totals.rejected, n.totals.errored) }
   for _, m in ipairs(n.menus) do
      out[#out + 1] = string.format("  menu %s: in %d, accepted %d, rejected %d, errored %d", m.menu,
         m["in"], m.accepted, m.rejected, m.errored)
   end
   return table.concat(out, "\n") .. "\n"
end

return _M
