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
         if i == #list then return nil, "option " .. a .. " needs a value" end
         opts[name] = list[i + 1]
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

-- API: eprint(...) writes its arguments and a newline to stderr.
function _M.eprint(...) io.stderr:write(table.concat({ ... }, ""), "\n") end

-- API: exists(path) -> true when the file can be opened for reading.
function _M.exists(path)
   local f = io.open(path, "rb")
   if f then f:close() end
   return f ~= nil
end

return _M
