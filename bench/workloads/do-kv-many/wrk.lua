-- Spreads requests over OBJECTS objects: each wrk thread walks /o/<i> from its own
-- starting point, so every object gets requests and threads rarely collide.
local OBJECTS = 10000
local threads = 0
function setup(thread)
  thread:set("tid", threads)
  threads = threads + 1
end
function init(args)
  i = ((tid or 0) * 4999) % OBJECTS
end
function request()
  i = (i + 1) % OBJECTS
  return wrk.format("GET", "/o/" .. i)
end
