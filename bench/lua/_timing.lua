-- The timing every program here shares, as bench/python/_timing.py: `lua5.4 FILE [RUNS]` runs
-- the program's run() RUNS times (default 3) after one untimed run, and prints the median time
-- in microseconds and the result, as `median_us result`. Start-up is excluded, as in the Ruchy
-- bench. os.clock() is the process's CPU time (Lua has no wall clock finer than a second);
-- these programs neither sleep nor wait, so it is their running time.
local M = {}

function M.main(run)
  local runs = math.max(tonumber(arg and arg[1]) or 3, 1)
  local result = run()
  local times = {}
  for _ = 1, runs do
    local t = os.clock()
    result = run()
    times[#times + 1] = (os.clock() - t) * 1e6
  end
  table.sort(times)
  print(string.format("%.1f %s", times[#times // 2 + 1], tostring(result)))
end

-- Lua has no map, filter or reduce; a Lua user writes these once (or takes them from a library).
function M.range(a, b)
  local t = {}
  for i = a, b - 1 do t[#t + 1] = i end
  return t
end

function M.map(t, f)
  local out = {}
  for i = 1, #t do out[i] = f(t[i]) end
  return out
end

function M.filter(t, f)
  local out = {}
  for i = 1, #t do
    local x = t[i]
    if f(x) then out[#out + 1] = x end
  end
  return out
end

function M.reduce(t, f, acc)
  for i = 1, #t do acc = f(acc, t[i]) end
  return acc
end

return M
