-- ngt/json.lua: a small JSON encoder for reports (objects keep the key order given in a "__order"
-- list when present, else sorted keys; numbers as integers when integral).
local _M = {}

local function esc(s)
   return '"' .. s:gsub('[%c"\\]', function(c)
      local named = { ['"'] = '\\"', ["\\"] = "\\\\", ["\n"] = "\\n", ["\t"] = "\\t", ["\r"] = "\\r" }
      return named[c] or string.format("\\u%04x", c:byte())
   end) .. '"'
end

local function enc(v, ind, out)
   local t = type(v)
   if v == nil or v == _M.null then
      out[#out + 1] = "null"
   elseif t == "boolean" then
      out[#out + 1] = tostring(v)
   elseif t == "number" then
      if v ~= v or v == math.huge or v == -math.huge then
         out[#out + 1] = "null"
      elseif v == math.floor(v) and math.abs(v) < 2 ^ 53 then
         out[#out + 1] = string.format("%d", v)
      else
         out[#out + 1] = string.format("%.6g", v)
      end
   elseif t == "string" then
      out[#out + 1] = esc(v)
   elseif t == "table" then
      local pad = "\n" .. string.rep("  ", ind + 1)
      if v.__array or #v > 0 then
         if #v == 0 then out[#out + 1] = "[]" return end
         out[#out + 1] = "["
         for i, x in ipairs(v) do
            out[#out + 1] = (i > 1 and "," or "") .. pad
            enc(x, ind + 1, out)
         end
         out[#out + 1] = "\n" .. string.rep("  ", ind) .. "]"
      else
         local keys = v.__order
         if not keys then
            keys = {}
            for k in pairs(v) do if k ~= "__order" then keys[#keys + 1] = tostring(k) end end
            table.sort(keys)
         end
         if #keys == 0 then out[#out + 1] = "{}" return end
         out[#out + 1] = "{"
         for i, k in ipairs(keys) do
            out[#out + 1] = (i > 1 and "," or "") .. pad .. esc(tostring(k)) .. ": "
            local x = v[k]
            if x == nil and tonumber(k) then x = v[tonumber(k)] end
            enc(x, ind + 1, out)
         end
         out[#out + 1] = "\n" .. string.rep("  ", ind) .. "}"
      end
   else
      error("json: cannot encode a " .. t)
   end
end

_M.null = setmetatable({}, { __tostring = function() return "null" end })

-- API: JSON text of a value. Example: json.encode { a = 1 } --> '{\n  "a": 1\n}'
function _M.encode(v)
   local out = {}
   enc(v, 0, out)
   return table.concat(out)
end

-- API: the value of a JSON text (objects as tables, arrays as lists, null as json.null), or
-- nil, err. Example: json.decode '{"a":[1,2]}' --> { a = { 1, 2 } }
function _M.decode(text)
   local pos = 1
   local function fail(what) error({ json = what .. " at byte " .. pos }) end
   local function ws() pos = text:find("[^ \t\r\n]", pos) or #text + 1 end
   local value
   local function str()
      local out = {}
      pos = pos + 1
      while true do
         local c = text:sub(pos, pos)
         if c == "" then fail("unterminated string") end
         if c == '"' then pos = pos + 1 break end
         if c == "\\" then
            local e = text:sub(pos + 1, pos + 1)
            if e == "u" then
               out[#out + 1] = string.char(tonumber(text:sub(pos + 2, pos + 5), 16) % 256)
               pos = pos + 6
            else
               out[#out + 1] = ({ n = "\n", t = "\t", r = "\r", b = "\b", f = "\f" })[e] or e
               pos = pos + 2
            end
         else
            out[#out + 1] = c
            pos = pos + 1
         end
      end
      return table.concat(out)
   end
   function value()
      ws()
      local c = text:sub(pos, pos)
      if c == "{" then
         local t = {}
         pos = pos + 1
         ws()
         if text:sub(pos, pos) == "}" then pos = pos + 1 return t end
         while true do
            ws()
            if text:sub(pos, pos) ~= '"' then fail("expected a name") end
            local k = str()
            ws()
            if text:sub(pos, pos) ~= ":" then fail("expected ':'") end
            pos = pos + 1
            t[k] = value()
            ws()
            local d = text:sub(pos, pos)
            pos = pos + 1
            if d == "}" then return t end
            if d ~= "," then fail("expected ',' or '}'") end
         end
      elseif c == "[" then
         local t = {}
         pos = pos + 1
         ws()
         if text:sub(pos, pos) == "]" then pos = pos + 1 return t end
         while true do
            t[#t + 1] = value()
            ws()
            local d = text:sub(pos, pos)
            pos = pos + 1
            if d == "]" then return t end
            if d ~= "," then fail("expected ',' or ']'") end
         end
      elseif c == '"' then
         return str()
      else
         local word = text:match("^[%w%.%+%-]+", pos)
         if not word then fail("unexpected character") end
         pos = pos + #word
         if word == "true" then return true elseif word == "false" then return false
         elseif word == "null" then return _M.null end
         local n = tonumber(word)
         if not n then fail("bad value '" .. word .. "'") end
         return n
      end
   end
   local ok, v = pcall(function()
      local x = value()
      ws()
      if pos <= #text then fail("text after the value") end
      return x
   end)
   if ok then return v end
   if type(v) == "table" then return nil, "json: " .. v.json end
   error(v, 0)
end

return _M
