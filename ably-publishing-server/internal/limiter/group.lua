-- Sliding-window log limiter over several logs at once, such as one
-- channel's log and the account's log, shared by every publisher replica.
-- An admission is recorded in every log, and is granted only when every
-- log has room for it, all in one atomic step.
--
-- KEYS     one sorted set per limit: member = request id .. ":" .. index,
--          score = admission time in microseconds of the Redis clock.
--          On Redis Cluster all keys must share one hash tag.
-- ARGV[1]  window in microseconds (integer >= 1), margin already added.
-- ARGV[2]  n: admissions requested by this call (integer >= 1).
-- ARGV[3]  minimum: admit nothing unless at least this many fit (integer
--          from 1 to n). It is lowered to the smallest limit, which could
--          never admit more at once.
-- ARGV[4]  request id, unique per call. A retry of the same call must pass
--          the same id.
-- ARGV[5..] the limit of each key, in the order of KEYS (integers >= 1).
--
-- Returns {admitted, wait_us}:
--   admitted  how many of the n were admitted: 0, or from minimum to n.
--   wait_us   0 when all n were admitted. Otherwise the microseconds until
--             every full log has room for minimum more (after a denial) or
--             for one more (after a partial admission).

local window = tonumber(ARGV[1])
local requested = tonumber(ARGV[2])
local minimum = tonumber(ARGV[3])
local request_id = ARGV[4]
local limits = {}
for i = 1, #KEYS do
  limits[i] = tonumber(ARGV[4 + i])
  if minimum > limits[i] then
    minimum = limits[i]
  end
end

-- Lua 5.1 turns numbers above 1e14 into strings with an exponent, which
-- would round microsecond times, so numbers sent to Redis are formatted here.
local function integer(number)
  return string.format('%.0f', number)
end

local function member(index)
  return request_id .. ':' .. index
end

-- wait_for_slots returns the microseconds until the log key, holding
-- count entries, has room for need more under limit.
local function wait_for_slots(key, limit, now, count, need)
  local index = count - limit + need - 1
  if index < 0 then
    return 0
  end
  local entry = redis.call('ZRANGE', key, index, index, 'WITHSCORES')
  if #entry < 2 then
    return 0
  end
  local wait = tonumber(entry[2]) + window - now
  if wait < 1 then
    wait = 1
  end
  return wait
end

local clock = redis.call('TIME')
local now = tonumber(clock[1]) * 1000000 + tonumber(clock[2])

-- A retried call finds its members in the first log and gets the earlier
-- result back, so it is never admitted twice.
if redis.call('ZSCORE', KEYS[1], member(1)) then
  local earlier = 1
  while earlier < requested and redis.call('ZSCORE', KEYS[1], member(earlier + 1)) do
    earlier = earlier + 1
  end
  local wait = 0
  if earlier < requested then
    for i = 1, #KEYS do
      local count = redis.call('ZCARD', KEYS[i])
      wait = math.max(wait, wait_for_slots(KEYS[i], limits[i], now, count, 1))
    end
  end
  return {earlier, wait}
end

-- An entry at time t is inside the window while now - t < window.
local counts = {}
local admitted = requested
for i = 1, #KEYS do
  redis.call('ZREMRANGEBYSCORE', KEYS[i], '-inf', integer(now - window))
  counts[i] = redis.call('ZCARD', KEYS[i])
  local free = limits[i] - counts[i]
  if free < admitted then
    admitted = math.max(free, 0)
  end
end
local need = 1
if admitted < minimum then
  need = minimum
  admitted = 0
end

if admitted > 0 then
  local score = integer(now)
  local ttl = integer(math.ceil(window / 1000) + 1)
  for i = 1, #KEYS do
    -- ZADD takes the members in chunks, because unpack of a very long
    -- table would overflow the Lua stack.
    for first = 1, admitted, 500 do
      local last = math.min(first + 499, admitted)
      local args = {}
      for index = first, last do
        args[#args + 1] = score
        args[#args + 1] = member(index)
      end
      redis.call('ZADD', KEYS[i], unpack(args))
    end
    -- The key outlives its newest entry by one window, then Redis drops it.
    redis.call('PEXPIRE', KEYS[i], ttl)
  end
end

local wait = 0
if admitted < requested then
  for i = 1, #KEYS do
    wait = math.max(wait, wait_for_slots(KEYS[i], limits[i], now, counts[i] + admitted, need))
  end
end
return {admitted, wait}
