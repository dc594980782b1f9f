-- The bench row `map/filter/reduce over 300,000 ints` in Lua 5.4 (see _timing.lua for the
-- helpers).
local T = require("_timing")

T.main(function()
  local xs = T.map(T.range(0, 300000), function(x) return x * 3 end)
  xs = T.filter(xs, function(x) return x % 2 == 0 end)
  return T.reduce(xs, function(a, b) return a + b end, 0)
end)
