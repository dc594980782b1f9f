-- The bench row `counting loop` in Lua 5.4 (see _timing.lua).
local T = require("_timing")

T.main(function()
  local n, i = 0, 0
  while i < 3000000 do
    if i % 3 == 0 then n = n + 1 end
    i = i + 1
  end
  return n
end)
