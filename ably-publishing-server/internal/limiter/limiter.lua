-- Sliding-window log limiter shared by every publisher replica.
--
-- KEYS[1]  sorted set of admissions: member = request id .. ":" .. index,
--          score = admission time in microseconds of the Redis clock.
-- ARGV[1]  limit: maximum admissions in any window (integer >= 1).
-- ARGV[2]  window in microseconds (integer >= 1). The caller passes the
--          window with its safety margin already added.
-- ARGV[3]  n: admissions requested by this call (integer >= 1).
-- ARGV[4]  request id, unique per call. A retry of the same call must pass
--          the same id.
-- ARGV[5]  hold in microseconds (integer >= 0): entries are scored at the
--          admission time plus hold until complete.lua records when their
--          publish ended, as in group.lua. 0 scores them at admission.
--
-- Returns {admitted, wait_us}:
--   admitted  how many of the n were admitted, from 0 to n.
--   wait_us   0 when all n were admitted. Otherwise the microseconds
--             until the next slot frees, which happens when the oldest
--             entry that keeps the log full leaves the window, at most one
--             window when that entry is still held.
--
-- The script reads the time with TIME, so every replica uses one clock.
-- Redis 5 and later replicate scripts by their effects, so a write after
-- TIME is allowed.

local key = KEYS[1]
local limit = tonumber(ARGV[1])
local window = tonumber(ARGV[2])
local requested = tonumber(ARGV[3])
local request_id = ARGV[4]
local hold = tonumber(ARGV[5])

-- Lua 5.1 turns numbers above 1e14 into strings with an exponent, which
-- would round microsecond times, so numbers sent to Redis are formatted here.
local function integer(number)
  return string.format('%.0f', number)
end

local function member(index)
  return request_id .. ':' .. index
end

local function wait_for_slot(now, count)
  -- The log frees its next slot when the entry at position count-limit
  -- (0-based, oldest first) leaves the window. Normally count == limit
  -- and that is the oldest entry; after RATE_LIMIT is lowered the log can
  -- hold more than limit entries.
  local index = count - limit
  if index < 0 then
    return 0
  end
  local entry = redis.call('ZRANGE', key, index, index, 'WITHSCORES')
  if #entry < 2 then
    return 0
  end
  -- A held entry leaves one window after its publish ends, which is at
  -- least one window from now.
  local wait = math.min(tonumber(entry[2]) + window - now, window)
  if wait < 1 then
    wait = 1
  end
  return wait
end

local clock = redis.call('TIME')
local now = tonumber(clock[1]) * 1000000 + tonumber(clock[2])

-- A retried call finds its own members and gets the earlier result back,
-- so it is never admitted twice. Members are added from index 1 upwards,
-- so counting until the first missing index gives the earlier admitted
-- count.
if redis.call('ZSCORE', key, member(1)) then
  local earlier = 1
  while earlier < requested and redis.call('ZSCORE', key, member(earlier + 1)) do
    earlier = earlier + 1
  end
  local wait = 0
  if earlier < requested then
    wait = wait_for_slot(now, redis.call('ZCARD', key))
  end
  return {earlier, wait}
end

-- An entry at time t is inside the window while now - t < window.
redis.call('ZREMRANGEBYSCORE', key, '-inf', integer(now - window))
local count = redis.call('ZCARD', key)

local free = limit - count
if free < 1 then
  return {0, wait_for_slot(now, count)}
end

local admitted = requested
if admitted > free then
  admitted = free
end
-- ZADD takes the members in chunks, because unpack of a very long table
-- would overflow the Lua stack.
local score = integer(now + hold)
local chunk = 500
for first = 1, admitted, chunk do
  local last = math.min(first + chunk - 1, admitted)
  local args = {}
  for index = first, last do
    args[#args + 1] = score
    args[#args + 1] = member(index)
  end
  redis.call('ZADD', key, unpack(args))
end
-- The key outlives its newest entry by one window, then Redis drops it.
redis.call('PEXPIRE', key, integer(math.ceil((hold + window) / 1000) + 1))

local wait = 0
if admitted < requested then
  wait = wait_for_slot(now, count + admitted)
end
return {admitted, wait}
