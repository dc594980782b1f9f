-- The bench row `sum 1..=1,000,000` in Lua 5.4 (see _timing.lua).
local T = require("_timing")

T.main(function()
  local sum = 0
  for i = 1, 1000000 do sum = sum + i end
  return sum
end)
