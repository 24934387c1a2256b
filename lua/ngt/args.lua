-- args.lua: what every verb of the ngt command shares: option parsing, messages on stderr, and
-- whether a file exists.
local _M = {}

-- API: parse(list, valued, bools) -> opts, positionals (or nil, message). "--name value" for the
-- names in valued, "--name" for those in bools, "-o" for --output when --output takes a value,
-- "-h"/"--help" sets opts.help. Example: parse(list, { events = 1 }, { quiet = 1 })
function _M.parse(list, valued, bools)
   bools = bools or {}
   local opts, pos = {}, {}
   local i = 1
   while i <= #list do
      local a = list[i]
      local name = (a == "-o" and valued.output) and "output" or a:match("^%-%-([%w-]+)$")
      if a == "-h" or a == "--help" then
         opts.help = true
      elseif name and bools[name] then
         opts[name] = true
      elseif name and valued[name] then
         local v = list[i + 1]
         if v == nil then return nil, "option " .. a .. " needs a value" end
         -- another option is not a value (a negative number is, and is checked as a number)
         if v:match("^%-%-") or v == "-h" or v == "-o" then
            return nil, "option " .. a .. " needs a value, got option " .. v
         end
         opts[name] = v
         i = i + 1
      elseif a:sub(1, 1) == "-" and #a > 1 then
         return nil, "unknown option " .. a
      else
         pos[#pos + 1] = a
      end
      i = i + 1
   end
   return opts, pos
end

-- API: number(opts, name, default, opt) -> the value of --name as a number, default when absent;
-- raises { usage = "--name expects ..." } for anything else: not a number ("abc", "1e6x", "nan",
-- "inf"), below opt.min (or not above opt.above), or not an integer unless opt.real.
-- Example: number(opts, "threads", 0, { min = 0 }), number(opts, "input-rate", nil, { above = 0, real = true })
function _M.number(opts, name, default, opt)
   opt = opt or {}
   local v = opts[name]
   if v == nil then return default end
   local n = tonumber(v)
   local want = (opt.real and "a number" or "an integer")
      .. (opt.above and " > " .. opt.above or opt.min and " >= " .. opt.min or "")
   if not n or n ~= n or n == math.huge or n == -math.huge or (not opt.real and n ~= math.floor(n))
      or (opt.min and n < opt.min) or (opt.above and n <= opt.above) then
      error({ usage = "--" .. name .. " expects " .. want .. ", got '" .. v .. "'" }, 0)
   end
   return n
end

-- API: writable(path) -> true, or nil and the reason: path can be created or overwritten as a file
-- (checked before a run, so an unwritable output fails before the work and not after). Leaves an
-- existing file as it was; removes one it had to create.
function _M.writable(path)
   local existed = _M.exists(path)
   local f, err = io.open(path, "ab")
   if not f then return nil, err end
   f:close()
   if not existed then os.remove(path) end
   return true
end

-- API: eprint(...) writes its arguments and a newline to stderr.
function _M.eprint(...) io.stderr:write(table.concat({ ... }, ""), "\n") end

-- API: exists(path) -> true when the file can be opened for reading.
function _M.exists(path)
   local f = io.open(path, "rb")
   if f then f:close() end
   return f ~= nil
end

return _M
