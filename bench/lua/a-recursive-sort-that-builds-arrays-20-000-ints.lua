-- The bench row `a recursive sort that builds arrays (20,000 ints)` in Lua 5.4 (see
-- _timing.lua): the same filters and concatenation as the Ruchy and Python programs.
local T = require("_timing")

local function qs(xs)
  if #xs <= 1 then return xs end
  local p = xs[1]
  local rest = table.move(xs, 2, #xs, 1, {})
  local out = qs(T.filter(rest, function(x) return x < p end))
  out[#out + 1] = p
  local hi = qs(T.filter(rest, function(x) return x >= p end))
  table.move(hi, 1, #hi, #out + 1, out)
  return out
end

T.main(function()
  local seed, xs = 7, {}
  for _ = 1, 20000 do
    seed = (seed * 1103515245 + 12345) % 2147483648
    xs[#xs + 1] = seed % 100000
  end
  local s = qs(xs)
  return s[1] + s[20000]
end)
