-- ngt/upvalues.lua: turns a Lua step function's upvalues into Lua source that rebuilds them in a
-- worker's own lua_State. Plain data only (nil, booleans, numbers, strings, 64-bit integer cdata,
-- tables of those) and the standard libraries (rebound by name); anything else is a load error.
local ffi = require "ffi"

local _M = {}

local libs = { [math] = "math", [string] = "string", [table] = "table", [os] = "os", [io] = "io",
               [ffi] = "require 'ffi'", [require "bit"] = "require 'bit'", [jit] = "jit" }

local function ser(v, seen, what, w)
   local t = type(v)
   if t == "nil" or t == "boolean" then return tostring(v) end
   if t == "number" then
      if v ~= v then return "(0/0)" end
      if v == math.huge then return "(1/0)" end
      if v == -math.huge then return "(-1/0)" end
      return string.format("%.17g", v)
   end
   if t == "string" then return string.format("%q", v) end
   if t == "cdata" and (ffi.istype("int64_t", v) or ffi.istype("uint64_t", v)) then
      return tostring(v)
   end
   if t == "table" then
      if libs[v] then return libs[v] end
      if seen[v] then error((w or "?") .. ": " .. what .. " holds a cycle (plain data only)", 0) end
      seen[v] = true
      local out = {}
      for k, x in pairs(v) do
         out[#out + 1] = "[" .. ser(k, seen, what .. " key", w) .. "]=" .. ser(x, seen, what, w)
      end
      seen[v] = nil
      return "{" .. table.concat(out, ",") .. "}"
   end
   error((w or "?") .. ": " .. what .. " is a " .. t ..
         " (a Lua step runs in its own Lua state per worker: upvalues must be plain data)", 0)
end

-- API: source of a chunk returning { [index] = value } for fn's upvalues; raises "w: message".
-- Example: serialize(function() return k end, "menu.lua:3") --> "return {[1]=0.5}"
function _M.serialize(fn, w)
   local info = debug.getinfo(fn, "S")
   local fw = info.short_src .. ":" .. (info.linedefined or 0)
   if info.what == "C" then error((w or "?") .. ": a Lua step needs a Lua function, not a C function", 0) end
   local out = {}
   local i = 1
   while true do
      local name, v = debug.getupvalue(fn, i)
      if not name then break end
      out[#out + 1] = "[" .. i .. "]=" .. ser(v, {}, "upvalue '" .. name .. "'", fw)
      i = i + 1
   end
   return "return {" .. table.concat(out, ",") .. "}"
end

return _M
