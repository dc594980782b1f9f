-- The bench row `float loop` in Lua 5.4 (see _timing.lua).
local T = require("_timing")

T.main(function()
  local x, y = 0.0, 1.5
  for _ = 0, 999999 do
    x = x * 0.5 + y
    y = y + 0.25
  end
  return x
end)
