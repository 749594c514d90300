-- Renews the lease of one publisher replica, or registers it.
--
-- KEYS[1]  sorted set of replica leases: member = replica id, score = the
--          lease's expiry in milliseconds of the Redis clock.
-- ARGV[1]  replica id.
-- ARGV[2]  lease TTL in milliseconds (integer >= 1).
--
-- Returns {state, expires_ms}:
--   state       0 when the lease was live and is extended, 1 when the
--               replica had no entry (at its first renewal, or after
--               another replica took over its processing list), 2 when the
--               lease had expired but nobody had taken it over yet.
--   expires_ms  the new expiry.
--
-- The script reads the time with TIME, so every replica uses one clock.

local clock = redis.call('TIME')
local now = tonumber(clock[1]) * 1000 + math.floor(tonumber(clock[2]) / 1000)
local expires = now + tonumber(ARGV[2])

local state = 0
local previous = redis.call('ZSCORE', KEYS[1], ARGV[1])
if not previous then
  state = 1
elseif tonumber(previous) <= now then
  state = 2
end
redis.call('ZADD', KEYS[1], string.format('%.0f', expires), ARGV[1])
return {state, expires}
