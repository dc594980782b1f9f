-- The bench row `fib(27)` in Lua 5.4, written as Lua users write it (see _timing.lua).
local T = require("_timing")

local function fib(n)
  if n < 2 then return n else return fib(n - 1) + fib(n - 2) end
end

T.main(function() return fib(27) end)
