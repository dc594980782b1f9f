-- The bench row `matrix product 200x200` in Lua 5.4 (see _timing.lua).
local T = require("_timing")

T.main(function()
  local n = 200
  local a, b = {}, {}
  for i = 0, n - 1 do
    local ra, rb = {}, {}
    for j = 0, n - 1 do
      ra[j + 1] = (i + j) % 7
      rb[j + 1] = (i * j) % 5
    end
    a[i + 1], b[i + 1] = ra, rb
  end
  local c = {}
  for i = 1, n do
    local ai, row = a[i], {}
    for j = 1, n do
      local s = 0
      for k = 1, n do s = s + ai[k] * b[k][j] end
      row[j] = s
    end
    c[i] = row
  end
  return c[200][200]
end)
