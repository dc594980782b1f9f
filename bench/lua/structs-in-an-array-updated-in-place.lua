-- The bench row `structs in an array, updated in place` in Lua 5.4 (see _timing.lua): a
-- struct is a table with its two fields.
local T = require("_timing")

T.main(function()
  local ps = {}
  for i = 0, 999 do ps[i + 1] = { x = i, v = i % 7 } end
  for _ = 1, 100 do
    for i = 1, 1000 do
      local p = ps[i]
      ps[i] = { x = p.x + p.v, v = p.v }
    end
  end
  return ps[1000].x
end)
