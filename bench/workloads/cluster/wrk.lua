-- cluster-kv-many: like do-kv-many/wrk.lua (cycles /o/0 … /o/9999), but the starting
-- object comes from the command line (`wrk … -s wrk.lua URL -- OFFSET`), because
-- bench/cluster runs one wrk per node and they must not walk in step.
local OBJECTS = 10000
function init(args)
  i = (tonumber(args[1]) or 0) % OBJECTS
end
function request()
  i = (i + 1) % OBJECTS
  return wrk.format("GET", "/o/" .. i)
end
