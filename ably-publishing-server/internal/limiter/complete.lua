-- Records that the publish a limiter call admitted has ended, so that its
-- admissions count from the end time instead of the held time (see the
-- hold in group.lua and limiter.lua).
--
-- KEYS     the sorted sets of the logs that recorded the call.
-- ARGV     the members of the call in each log.
--
-- Returns how many scores moved. A member that already left a log is not
-- added again, and a score only moves back in time, so a repeated call
-- changes nothing.

local clock = redis.call('TIME')
local now = string.format('%.0f', tonumber(clock[1]) * 1000000 + tonumber(clock[2]))
local updated = 0
for i = 1, #KEYS do
  for j = 1, #ARGV do
    updated = updated + redis.call('ZADD', KEYS[i], 'XX', 'LT', 'CH', now, ARGV[j])
  end
end
return updated
