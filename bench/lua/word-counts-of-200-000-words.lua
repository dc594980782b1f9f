-- The bench row `word counts of 200,000 words` in Lua 5.4 (see _timing.lua).
local T = require("_timing")

T.main(function()
  local words = {}
  for i = 0, 199999 do words[#words + 1] = "w" .. (i * 7919) % 5000 end
  local counts = {}
  for _, w in ipairs(words) do
    if counts[w] then counts[w] = counts[w] + 1 else counts[w] = 1 end
  end
  local n = 0
  for _ in pairs(counts) do n = n + 1 end
  return n
end)
