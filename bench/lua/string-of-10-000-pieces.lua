-- The bench row `string of 10,000 pieces` in Lua 5.4 (see _timing.lua). Lua users build a
-- string from pieces with table.concat (`s = s .. "x"` copies the string each time).
local T = require("_timing")

T.main(function()
  local parts = {}
  for _ = 1, 10000 do parts[#parts + 1] = "x" end
  return #table.concat(parts)
end)
