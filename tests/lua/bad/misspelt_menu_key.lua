-- expect: misspelt_menu_key.lua:5: ngt.menu: unknown key 'chians' (known: chains,
local ngt = require "ngt"
local ev = ngt.schema { x = "f32" }
return ngt.menu { schema = ev,
   chians = { ngt.chain "A" { ngt.cut "x > 1" } },
}
