-- Lists the replicas whose lease has expired.
--
-- KEYS[1]  sorted set of replica leases (see renew.lua).
-- ARGV[1]  maximum number of ids to return (integer >= 1).
--
-- Returns the ids of the replicas whose lease expired before now on the
-- Redis clock, the longest expired first.

local clock = redis.call('TIME')
local now = tonumber(clock[1]) * 1000 + math.floor(tonumber(clock[2]) / 1000)
return redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', '(' .. string.format('%.0f', now),
  'LIMIT', 0, tonumber(ARGV[1]))
