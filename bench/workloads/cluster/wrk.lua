-- cluster-kv-many: like do-kv-many/wrk.lua (cycles over /o/0 … /o/9999), but where
-- to start and how far to step come from the command line
-- (`wrk … -s wrk.lua URL -- OFFSET STEP`), because bench/cluster runs one wrk per
-- node: walk "own ids" gives wrk k the ids k, k+3, k+6, … (OFFSET k, STEP 3), so
-- each node's clients call only objects no other node calls; walk "shared ids"
-- gives every wrk every id (STEP 1) from offsets 0, 1, 2.
local OBJECTS = 10000
function init(args)
  off = (tonumber(args[1]) or 0) % OBJECTS
  step = tonumber(args[2]) or 1
  if step == 1 then
    off, n, j = 0, OBJECTS, (tonumber(args[1]) or 0) % OBJECTS
  else
    n, j = math.floor((OBJECTS - off - 1) / step) + 1, 0
  end
end
function request()
  j = (j + 1) % n
  return wrk.format("GET", "/o/" .. (off + j * step))
end
