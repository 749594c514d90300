-- Appends trades to the queue without letting it grow past a maximum length.
-- Appending is all or nothing per trade and the whole script is atomic, so
-- concurrent producers share the bound correctly.
--
-- KEYS[1]: the queue (a Redis list; consumers take from the left).
-- ARGV[1]: the maximum queue length, an integer of at least 1.
-- ARGV[2..]: the trades as JSON, oldest first.
-- Returns the number of trades appended, n >= 0. These are ARGV[2..n+1];
-- the caller keeps the rest and tries them again later.
local room = tonumber(ARGV[1]) - redis.call('LLEN', KEYS[1])
local count = #ARGV - 1
if room < count then
  count = room
end
if count <= 0 then
  return 0
end
redis.call('RPUSH', KEYS[1], unpack(ARGV, 2, count + 1))
return count
