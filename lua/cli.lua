-- cli.lua: the `ngt` command line (started by lua/ngt_main.c with the arguments as a table).
-- Verbs: run, inspect, infer. Returns the exit status: 0 ok, 1 failure, 2 usage, 3 (run) events
-- errored.
local args = ...

local USAGE = [[
usage: ngt <verb> [options]

verbs:
  run MENU.lua       run a menu over the built-in source or recorded samples, print the report
  inspect MENU.lua   print the resolved menu and its hashes
  infer MODEL.onnx   run one model over a NumPy array
  compile MODEL.onnx one ONNX model as plain C (genc), for a host to build without ngt
  hls profile|tune   the hls backend's tools: per-layer ranges and overflows, narrowest types
  send, recv         events to a node or a farm, results back (ngt send --help)
  farm VERB          a farm on NATS JetStream: setup, status, stop, prescale, swap

ngt <verb> --help shows the verb's options.
]]

local HELP = {
   run = [[
usage: ngt run MENU.lua [options]
  --threads N          worker threads (default: number of cores)
  --events N           events to process (default 100000; with --input: all of them)
  --batch N            events per batch (default 256)
  --seed N             seed of the built-in source (default 1)
  --lumi-events N      events per lumi section of the built-in source (default 100000)
  --input DIR          recorded samples: DIR/<column>.npy for every input column
  --output DIR         accepted events per stream as DIR/<stream>/<column>.npy, every event's
                       decisions as DIR/all/ngt.decision.npy (ngt.streams, ngt.status)
  --record             with --output, also every input event as DIR/all/<column>.npy
  --output-columns L   with --output, also these derived columns (comma-separated: model outputs,
                       Lua producers' columns) for every stream and DIR/all; 0 for an event
                       whose producer did not run (no chain using it had the event)
  --input-rate HZ      input rate, turning accept fractions into rates (default: the menu's)
  --prescale-column C  start with prescale column C
  --cuts MODE          auto (default: compiled when a C compiler works, else interpreted),
                       compiled (an error without a compiler) or interp; NGT_CUTS overrides
  --json FILE          write the report as JSON
  --quiet              no report on the terminal
  --control EP         control socket (tcp://127.0.0.1:PORT or ipc://PATH): ngt ctl, ngt top
  --metrics HOST:PORT  Prometheus metrics over HTTP at /metrics (loopback unless --remote)
  --curve-secret K     CURVE on the control socket with this server secret key (Z85) ...
  --curve-allow KEYS   ... admitting only these client public keys (comma-separated, or @FILE)
  --remote             allow control and metrics endpoints off loopback
  --source ENDPOINT    run as a node: events from a ZeroMQ PULL socket (tcp://HOST:PORT, ipc://PATH;
                       bound, or connected with a leading '>'), wire format v1 (docs/wire.md)
  --sink S=EP[,S=EP]   accepted events of stream S to a PUSH socket at EP (bound; '>' connects)
  --flush-ms MS        a partial batch or output message waits at most MS (default 1)
  --stop-at-end        drain and exit after the first end-of-stream message
  --max-events N       events per input message at most (default 1048576; more: refused)
  --node-id N          source id written in output messages (default 0)
  --linger-ms MS       after a stop, how long a sink waits for its receiver to take what is left
                       (default 10000); events still unsent then are reported as undelivered
  --allow-errors       exit 0 even when events errored
  --farm URL           run as a farm node (docs/farm.md): batches from the JetStream work-queue
                       stream of --stream NAME on the NATS server URL (nats://HOST:PORT), one
                       result record per batch to NAME_results, inputs acknowledged after them
  --stream NAME        the farm's name
  --create             create the farm's streams and consumer when missing
  --ack-wait-ms MS     with --create: the consumer's AckWait (default 30000); else checked
  --max-deliver N      with --create: the consumer's MaxDeliver (default 5); else checked
  --dup-window-ms MS   with --create: the streams' duplicate window (default 120000)
  --fetch N            messages fetched at once (default 16)
  --idle-exit S        a farm node exits after S seconds without input (default: never)
On a terminal a progress line is shown; ^C drains the batches in flight and still reports (a node
stops taking input, finishes what it received, flushes every sink and sends end of stream).
Every failing step's first message (and input refused for bad collection counts) is printed on
stderr. Exit status: 0 ok, 1 failure (also: accepted events a node could not deliver), 2 usage,
3 the run completed but events errored (a step failed on them or their input was refused;
--allow-errors makes that 0).
]],
   inspect = [[
usage: ngt inspect MENU.lua
  Builds the menu (models loaded, cuts compiled) and prints it as resolved: schema, steps in
  execution order, chains, streams, prescale columns; then the menu hash, the schema id and each
  model's file hash (as the run report's provenance).
]],
   infer = [[
usage: ngt infer MODEL --input IN.npy --output OUT.npy [--backend ref|genc|hls|torch]
  --options TEXT       backend options, passed to the backend as they are
  --precision CFG      the hls backend's precision configuration (a file)
  Runs one model over IN.npy (first dimension: events; the rest the model input's shape) and
  writes its output. Several inputs or outputs: comma-separated lists in the model's order.
]],
}

local args_ = require "ngt.args"
local eprint, parse = args_.eprint, args_.parse

local number = args_.number

local verbs = {}

function verbs.run(list)
   local opts, pos = parse(list, { threads = 1, events = 1, batch = 1, seed = 1, ["lumi-events"] = 1,
                                   input = 1, output = 1, ["input-rate"] = 1, ["prescale-column"] = 1,
                                   json = 1, ["output-columns"] = 1, control = 1, metrics = 1,
                                   ["curve-secret"] = 1, ["curve-allow"] = 1, source = 1, sink = 1,
                                   ["flush-ms"] = 1, ["max-events"] = 1, ["node-id"] = 1, ["linger-ms"] = 1, farm = 1,
                                   stream = 1, ["ack-wait-ms"] = 1, ["max-deliver"] = 1, fetch = 1,
                                   ["idle-exit"] = 1, ["dup-window-ms"] = 1, cuts = 1 },
                             { record = true, quiet = true, ["allow-errors"] = true, remote = true,
                               ["stop-at-end"] = true, create = true })
   if not opts then eprint("ngt run: ", pos) return 2 end
   if opts.help then io.write(HELP.run) return 0 end
   if #pos ~= 1 then eprint("ngt run: expected one MENU.lua (ngt run --help)") return 2 end
   local threads = number(opts, "threads", 0, { min = 0 })
   local events = number(opts, "events", nil, { min = 1 })
   local batch = number(opts, "batch", 256, { min = 1 })
   local seed = number(opts, "seed", 1, { min = 0 })
   local lumi_events = number(opts, "lumi-events", 100000, { min = 1 })
   local input_rate = number(opts, "input-rate", nil, { above = 0, real = true })
   if (opts.record or opts["output-columns"]) and not opts.output then
      eprint("ngt run: --record and --output-columns need --output DIR (ngt run --help)") return 2
   end
   if opts.json then
      local ok, werr = args_.writable(opts.json)
      if not ok then eprint("ngt run: --json: ", werr) return 1 end
   end
   if opts.output then
      local ok, werr = require("ngt.npyio").check_dir(opts.output)
      if not ok then eprint("ngt run: --output: ", werr) return 1 end
   end
   if not (opts.farm or opts.stream) then
      for _, name in ipairs { "create", "ack-wait-ms", "max-deliver", "dup-window-ms", "fetch", "idle-exit" } do
         if opts[name] then eprint("ngt run: --", name, " needs --farm URL --stream NAME") return 2 end
      end
   end
   local ngt = require "ngt"
   if opts.cuts and opts.cuts ~= "auto" and opts.cuts ~= "compiled" and opts.cuts ~= "interp" then
      eprint("ngt run: --cuts expects auto, compiled or interp, got '", opts.cuts, "'")
      return 2
   end
   local menu, err = ngt.load(pos[1], { prescale_column = opts["prescale-column"], cuts = opts.cuts })
   if not menu then eprint(err) return 1 end
   if opts.farm or opts.stream then
      if opts.input or opts.source or opts.sink or opts.output or opts.control or opts.metrics then
         eprint("ngt run: --farm excludes --input, --source, --sink, --output, --control and --metrics")
         menu:close() return 2
      end
      return require("ngt.farm_run")(menu, opts, pos[1], threads, batch)
   end
   if opts.output then
      local ok, oerr = require("ngt.npyio").check_menu(menu)
      if not ok then eprint("ngt run: --output: ", oerr) menu:close() return 1 end
   end
   local src
   local zsrc, zsinks = menu.spec.source, menu.spec.sinks or {}
   if opts.source then zsrc = { endpoint = opts.source } end
   if opts.sink then
      local zmq = require "ngt.zmq"
      zsinks, err = zmq.parse_sinks(opts.sink)
      if not zsinks then eprint("ngt run: ", err) menu:close() return 2 end
   end
   if zsrc then
      if opts.input then eprint("ngt run: --input and a ZeroMQ source exclude each other") menu:close() return 2 end
      zsrc.flush_ms = number(opts, "flush-ms", zsrc.flush_ms or 1, { min = 0, real = true })
      zsrc.stop_at_end = opts["stop-at-end"] or zsrc.stop_at_end
      zsrc.max_events = number(opts, "max-events", zsrc.max_events or 0, { min = 1 })
      zsrc.node_id = number(opts, "node-id", zsrc.node_id or 0, { min = 0 })
      zsrc.linger_ms = number(opts, "linger-ms", zsrc.linger_ms or 10000, { min = 1 })
   elseif #zsinks > 0 then
      eprint("ngt run: --sink needs a ZeroMQ source (--source or ngt.source.zmq in the script)") menu:close() return 2
   elseif opts.input then
      src, err = require("ngt.npyio").source(menu, opts.input, events)
      if not src then eprint("ngt run: ", err) menu:close() return 1 end
   else
      src = require("ngt.source").new(menu, { events = events or 100000, seed = seed,
                                              lumi_events = lumi_events })
   end
   local core = require "ngt.core"
   local rec
   if opts.output then
      local e = core.err()
      rec = core.C.ngt_recorder_new(menu.menu, opts.record and 1 or 0, opts["output-columns"], e)
      if rec == nil then eprint("ngt run: --output-columns: ", core.msg(e)) menu:close() return 1 end
   end
   local progress = not opts.quiet and core.C.isatty(1) == 1
   local sc = menu.spec.control or {}
   if type(sc) == "string" then sc = { endpoint = sc } end
   local ctl
   if opts.control or opts.metrics or sc.endpoint or sc.metrics then
      local cerr
      ctl, cerr = require("ngt.control").new { endpoint = opts.control or sc.endpoint,
         metrics = opts.metrics or sc.metrics, remote = opts.remote or sc.remote,
         curve_secret = opts["curve-secret"] or sc.curve_secret,
         curve_allow = opts["curve-allow"] or sc.curve_allow }
      if not ctl then eprint("ngt run: ", cerr) menu:close() return 1 end
   end
   local res, rerr
   if zsrc then
      res, rerr = require("ngt.zmq").serve(menu, zsrc, zsinks, { threads = threads, batch = batch,
                                                                progress = progress, recorder = rec,
                                                                control = ctl, path = pos[1] },
                                                     opts.sink ~= nil)
   else
      res, rerr = require("ngt.run").run(menu, src, { threads = threads, batch = batch,
                                                      progress = progress, recorder = rec,
                                                      control = ctl, path = pos[1] })
   end
   if ctl then ctl:close() end
   if not res then eprint("ngt run: ", rerr) return 1 end
   local first_menu = menu
   menu = res.menu
   if threads == 0 then
      local f = io.popen("nproc 2>/dev/null")
      threads = f and tonumber(f:read("*l")) or 0
      if f then f:close() end
   end
   local report = require "ngt.report"
   local r = report.build(menu, res.stats, { menu_path = pos[1], threads = threads, batch = batch,
      input_rate = input_rate or menu.spec.input_rate, wall = res.wall,
      interrupted = res.interrupted })
   if res.reloads and #res.reloads > 0 then report.node_totals(r, res.reloads) end
   if res.zmq then
      local zmq = require "ngt.zmq"
      r.source = zmq.section(res.zmq)
      r.__order[#r.__order + 1] = "source"
   end
   if not opts.quiet then
      io.write(report.text(r))
      if r.node then io.write(report.node_text(r.node)) end
      if r.source then io.write(require("ngt.zmq").text(r.source)) end
   end
   local status = 0
   local errs = report.errors_text(r)
   if errs ~= "" then
      for line in errs:gmatch("[^\n]+") do eprint("ngt run: ", line) end
      if not opts["allow-errors"] then status = 3 end
   end
   if r.source and r.source.undelivered_events > 0 then
      eprint(string.format("ngt run: %d accepted events not delivered: a sink's receiver took nothing for %d ms after the stop",
                           r.source.undelivered_events, zsrc.linger_ms))
      status = 1
   end
   if opts.json then
      local f, ferr = io.open(opts.json, "w")
      if not f then eprint("ngt run: ", ferr) status = 1
      else f:write(report.json(r)) f:close() end
   end
   if rec then
      local ok, werr = require("ngt.npyio").write(menu, rec, opts.output, opts.record)
      if not ok then eprint("ngt run: ", werr) status = 1 end
      if core.C.ngt_recorder_failed(rec) ~= 0 then eprint("ngt run: output incomplete (out of memory)") status = 1 end
      core.C.ngt_recorder_free(rec)
   end
   menu:close()
   if first_menu ~= menu then first_menu:close() end
   return status
end

function verbs.inspect(list)
   local opts, pos = parse(list, {}, {})
   if not opts then eprint("ngt inspect: ", pos) return 2 end
   if opts.help then io.write(HELP.inspect) return 0 end
   if #pos ~= 1 then eprint("ngt inspect: expected one MENU.lua (ngt inspect --help)") return 2 end
   local ngt = require "ngt"
   local menu, err = ngt.load(pos[1])
   if not menu then eprint(err) return 1 end
   local core = require "ngt.core"
   local C, ffi = core.C, core.ffi
   local need = tonumber(C.ngt_menu_describe(menu.menu, nil, 0))
   local buf = ffi.new("char[?]", need + 1)
   C.ngt_menu_describe(menu.menu, buf, need + 1)
   io.write(ffi.string(buf))
   if need > 0 and ffi.string(buf):sub(-1) ~= "\n" then io.write("\n") end
   local hex64 = require("ngt.report").hex64
   io.write("hashes: menu ", hex64(C.ngt_menu_hash(menu.menu)), ", schema ",
            hex64(C.ngt_schema_id(menu.schema)), "\n")
   for _, md in ipairs(menu.model_files) do
      io.write("model ", md.name, " (", md.backend, ") ", md.file, " ",
               hex64(C.ngt_registry_model_hash(menu.registry, md.name)), "\n")
   end
   menu:close()
   return 0
end

local function split(s)
   local out = {}
   for x in s:gmatch("[^,]+") do out[#out + 1] = x end
   return out
end

function verbs.infer(list)
   local opts, pos = parse(list, { backend = 1, input = 1, output = 1, options = 1, precision = 1 }, {})
   if not opts then eprint("ngt infer: ", pos) return 2 end
   if opts.help then io.write(HELP.infer) return 0 end
   if #pos ~= 1 or not opts.input or not opts.output then
      eprint("ngt infer: expected MODEL.onnx --input IN.npy --output OUT.npy (ngt infer --help)")
      return 2
   end
   local core = require "ngt.core"
   local C, ffi = core.C, core.ffi
   local e = core.err()
   local reg = ffi.gc(C.ngt_registry_new(e), C.ngt_registry_free)
   if reg == nil then eprint("ngt infer: ", core.msg(e)) return 1 end
   -- backend options: --options TEXT as is; --precision CFG is the hls backend's precision file
   local options = opts.options or opts.precision
   if opts.backend == "gpu" and opts.options and opts.precision then
      options = opts.options .. " precision=" .. opts.precision
   end
   if C.ngt_registry_load(reg, "model", opts.backend or "ref", pos[1], options, e) < 0 then
      eprint("ngt infer: ", pos[1], ": ", core.msg(e)) return 1
   end
   local d = ffi.new("ngt_model_desc")
   C.ngt_registry_describe(reg, "model", d, e)
   local ins, outs = split(opts.input), split(opts.output)
   if #ins ~= d.n_inputs or #outs ~= d.n_outputs then
      eprint(string.format("ngt infer: the model has %d inputs and %d outputs; %d and %d given",
                           d.n_inputs, d.n_outputs, #ins, #outs))
      return 2
   end
   require "ngt.npyio" -- cdefs ngt_npy.h
   local inp, arrays, n = ffi.new("const void *[?]", #ins), {}, nil
   for i, path in ipairs(ins) do
      local a = ffi.gc(ffi.new("ngt_npy"), C.ngt_npy_free)
      if C.ngt_npy_read(path, a, e) < 0 then eprint("ngt infer: ", path, ": ", core.msg(e)) return 1 end
      local t = d.inputs[i - 1]
      local want, got = 1, 1
      for k = 0, t.rank - 1 do want = want * tonumber(t.shape[k]) end
      for k = 1, a.rank - 1 do got = got * tonumber(a.shape[k]) end
      if a.dtype ~= t.dtype or a.rank < 1 or got ~= want then
         eprint(string.format("ngt infer: %s: %s with %d values per event; input '%s' wants %s with %d",
            path, ffi.string(C.ngt_dtype_name(a.dtype)), got, ffi.string(t.name),
            ffi.string(C.ngt_dtype_name(t.dtype)), want))
         return 1
      end
      if n and tonumber(a.shape[0]) ~= n then eprint("ngt infer: inputs disagree on the number of events") return 1 end
      n = tonumber(a.shape[0])
      arrays[i], inp[i - 1] = a, a.data
   end
   local outp, bufs = ffi.new("void *[?]", #outs), {}
   for i = 1, #outs do
      local t = d.outputs[i - 1]
      local elems = 1
      for k = 0, t.rank - 1 do elems = elems * tonumber(t.shape[k]) end
      bufs[i] = ffi.new("uint8_t[?]", math.max(1, n * elems * tonumber(C.ngt_dtype_size(t.dtype))))
      outp[i - 1] = bufs[i]
   end
   if n > 0 and C.ngt_registry_infer(reg, "model", inp, outp, n, e) < 0 then
      eprint("ngt infer: ", core.msg(e)) return 1
   end
   for i, path in ipairs(outs) do
      local t = d.outputs[i - 1]
      local shape = ffi.new("int64_t[?]", 5)
      shape[0] = n
      for k = 0, t.rank - 1 do shape[k + 1] = t.shape[k] end
      if C.ngt_npy_write(path, t.dtype, t.rank + 1, shape, bufs[i], e) < 0 then
         eprint("ngt infer: ", path, ": ", core.msg(e)) return 1
      end
   end
   return 0
end

local verb = args[1]
if verb == nil or verb == "--help" or verb == "-h" or verb == "help" then
   io.write(USAGE)
   return verb == nil and 2 or 0
end
if verb == "--version" then
   local paths_ok, paths = pcall(require, "ngt.paths")
   io.write("ngt ", require("ngt.core").ffi.string(require("ngt.core").C.ngt_version()),
            paths_ok and paths.lua_dir and "  (lua: " .. paths.lua_dir .. ")" or "", "\n")
   return 0
end
-- Verbs of the backends live in their own modules: lua/ngt/cmd_<verb>.lua returns function(list).
local fn = verbs[verb]
if not fn and verb:match("^[%w_]+$") then
   local found, mod = pcall(require, "ngt.cmd_" .. verb)
   if found then
      fn = mod
   elseif not tostring(mod):match("module 'ngt.cmd_" .. verb .. "' not found") then
      error(mod, 0)
   end
end
if not fn then
   eprint("ngt: unknown verb '", verb, "'")
   io.stderr:write(USAGE)
   return 2
end
local rest = {}
for i = 2, #args do rest[#rest + 1] = args[i] end
local ok, status = pcall(fn, rest)
if not ok then
   if type(status) == "table" and status.usage then
      eprint("ngt ", verb, ": ", status.usage)
      return 2
   end
   error(status, 0)
end
return status
