-- The bench row `strings: format, join, split, upper, replace over 100,000` in Lua 5.4 (see
-- _timing.lua).
local T = require("_timing")

T.main(function()
  local items = {}
  for i = 0, 99999 do items[#items + 1] = string.format("item %d", i) end
  local line = table.concat(items, ",")
  local upper = {}
  for s in line:gmatch("[^,]+") do
    upper[#upper + 1] = (s:upper():gsub("ITEM", "n"))
  end
  return #upper + #upper[100000]
end)
