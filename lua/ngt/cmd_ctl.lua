-- ngt/cmd_ctl.lua: `ngt ctl ENDPOINT COMMAND ...`: one request to a node's control socket
-- (docs/control.md), its JSON reply on stdout; exit 0 when the node said ok, 1 when not.
local HELP = [[
usage: ngt ctl ENDPOINT COMMAND [ARGS] [options]
commands:
  stats                      counters of the node, its menu, chains, streams, steps, models
  status [JOB]               state (running, paused, draining, stopping) and the recent jobs
  prescale CHAIN N           the chain's prescale from the next batch on (0 disables it)
  column NAME                switch prescale column ("" = the chains' own factors)
  swap MODEL FILE            load, validate and publish a new version (a job; see --wait)
  shadow MODEL FILE          run a candidate beside the live version; `shadow MODEL --clear`
  promote MODEL              publish the shadow as the live version
  reload MENU.lua            build a new menu and switch to it between batches (a job)
  pause | resume             stop / restart taking input (batches in flight finish)
  drain | stop               stop taking input, finish every batch, report and exit
  keygen                     print a new CURVE key pair (public, then secret); no ENDPOINT
options:
  --backend B  --options TEXT          swap/shadow: backend (default: the live version's)
  --inputs A.npy[,B.npy]               swap/shadow: validation inputs (default: zeros)
  --outputs A.npy[,B.npy] --tol X      swap/shadow: reference outputs and tolerance (1e-5)
  --wait                               swap/shadow/reload: wait until the job ends
  --timeout MS                         per request (default 5000)
  --server-key K  --secret-key K       CURVE: the node's public key, this client's secret key
]]

local args_ = require "ngt.args"
local eprint = args_.eprint
local control = require "ngt.control"
local json = require "ngt.json"

local function absolute(path)
   if path:sub(1, 1) == "/" then return path end
   return (os.getenv("PWD") or ".") .. "/" .. path
end

local function abs_list(list)
   local out = {}
   for p in list:gmatch("[^,]+") do out[#out + 1] = absolute(p) end
   return table.concat(out, ",")
end

-- JSON of a request (flat: strings, numbers, booleans).
local function request(t) return json.encode(t) end

-- API: run(list) -> exit status.
return function(list)
   local opt, pos = args_.parse(list, { backend = 1, options = 1, inputs = 1, outputs = 1, tol = 1,
                                        timeout = 1, ["server-key"] = 1, ["secret-key"] = 1 },
                                { wait = true, clear = true })
   if not opt then eprint("ngt ctl: ", pos, " (ngt ctl --help)") return 2 end
   if opt.help then io.write(HELP) return 0 end
   if pos[1] == "keygen" then
      local p, s = control.keypair()
      if not p then eprint("ngt ctl: ", s) return 1 end
      io.write(p, "\n", s, "\n")
      return 0
   end
   local ep, cmd = pos[1], pos[2]
   if not ep or not cmd then eprint("ngt ctl: expected ENDPOINT COMMAND (ngt ctl --help)") return 2 end
   local req = { cmd = cmd }
   local function need(n, what)
      if #pos ~= 2 + n then error({ usage = cmd .. " expects " .. what }) end
   end
   if cmd == "stats" or cmd == "pause" or cmd == "resume" or cmd == "drain" or cmd == "stop" then
      need(0, "no arguments")
   elseif cmd == "status" then
      if #pos > 3 then error({ usage = "status expects at most a job id" }) end
      req.job = pos[3]
   elseif cmd == "prescale" then
      need(2, "CHAIN N")
      req.chain, req.value = pos[3], tonumber(pos[4])
      if not req.value then error({ usage = "prescale N must be a number, not '" .. pos[4] .. "'" }) end
   elseif cmd == "column" then
      need(1, "NAME")
      req.name = pos[3]
   elseif cmd == "swap" or (cmd == "shadow" and not opt.clear) then
      need(2, "MODEL FILE")
      req.model, req.file = pos[3], absolute(pos[4])
      req.backend, req.options = opt.backend, opt.options
      req.inputs = opt.inputs and abs_list(opt.inputs)
      req.outputs = opt.outputs and abs_list(opt.outputs)
      req.tol = opt.tol and tonumber(opt.tol)
      if opt.tol and not req.tol then error({ usage = "--tol expects a number" }) end
   elseif cmd == "shadow" then
      need(1, "MODEL --clear")
      req.model, req.clear = pos[3], true
   elseif cmd == "promote" then
      need(1, "MODEL")
      req.model = pos[3]
   elseif cmd == "reload" then
      need(1, "MENU.lua")
      req.file = absolute(pos[3])
   else
      eprint("ngt ctl: unknown command '", cmd, "' (ngt ctl --help)")
      return 2
   end
   local copts = { timeout_ms = tonumber(opt.timeout) or 5000, server_key = opt["server-key"],
                   client_secret = opt["secret-key"] }
   local reply, err = control.request(ep, request(req), copts)
   if not reply then eprint("ngt ctl: ", err) return 1 end
   local r = json.decode(reply)
   if opt.wait and r and r.ok and r.job then
      local deadline = os.time() + math.max(60, copts.timeout_ms / 1000)
      while true do
         local s, serr = control.request(ep, request({ cmd = "status", job = tostring(r.job) }), copts)
         if not s then eprint("ngt ctl: ", serr) return 1 end
         local st = json.decode(s)
         local j = st and st.jobs and st.jobs[1]
         if j and (j.state == "done" or j.state == "failed") then
            -- the job's outcome is the answer: ok false when it failed
            reply, r = s:gsub('^{"ok":true', '{"ok":' .. tostring(j.state == "done"), 1), { ok = j.state == "done" }
            break
         end
         if os.time() > deadline then eprint("ngt ctl: job ", r.job, " still running") return 1 end
         require("ngt.control").sleep_ms(20)
      end
   end
   io.write(reply, "\n")
   return (r and r.ok) and 0 or 1
end
