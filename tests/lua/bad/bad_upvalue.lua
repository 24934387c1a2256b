-- expect: bad_upvalue.lua:5: upvalue 'helper' is a function
local ngt = require "ngt"
local ev = ngt.schema { x = "f32" }
local function helper(v) return v > 1 end
local step = ngt.lua { name = "s", reads = { "x" }, fn = function(ev, n)
   for i = 0, n - 1 do ev.pass[i] = helper(ev.x[ev.sel[i]]) and 1 or 0 end
end }
return ngt.menu { schema = ev, chains = { ngt.chain "A" { step } } }
