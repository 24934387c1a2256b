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

return _M
