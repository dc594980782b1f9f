-- The bench row `sort 200,000 ints` in Lua 5.4 (see _timing.lua).
local T = require("_timing")

T.main(function()
  local seed, xs = 42, {}
  for _ = 1, 200000 do
    seed = (seed * 1103515245 + 12345) % 2147483648
    xs[#xs + 1] = seed % 1000000
  end
  table.sort(xs)
  return xs[1] + xs[200000]
end)
