-- Sliding-window log limiter over several logs at once, such as one
-- channel's log and the account's log, shared by every publisher replica.
-- A call is granted only when every log has room for it, and is recorded
-- in every log, all in one atomic step.
--
-- Each log is a pair of keys. The sorted set has one entry per call:
-- member = request id, score = a time in microseconds of the Redis clock.
-- The hash has field = request id, value = admissions of that call, and
-- the field "total" with the sum over the entries in the set.
--
-- An entry is scored at first with the time it was admitted plus a hold:
-- it stays in every window until the publish it admitted has ended. The
-- caller then records the end time with complete.lua, which moves the
-- score back. The messages of a publish reach Ably between admission and
-- end, so counting each call at its end time bounds every window of
-- arrivals at Ably, whatever the delay between admission and arrival.
--
-- KEYS     per log: the sorted set, then the hash; then, optionally, a
--          record hash. On Redis Cluster all keys must share one hash tag.
-- ARGV[1]  window in microseconds (integer >= 1), margin already added.
-- ARGV[2]  n: admissions requested by this call (integer >= 1).
-- ARGV[3]  minimum: admit nothing unless at least this many fit (integer
--          from 1 to n). It is lowered to the smallest limit, which could
--          never admit more at once.
-- ARGV[4]  request id, unique per call. A retry of the same call must pass
--          the same id.
-- ARGV[5]  hold in microseconds (integer >= 0): how long after admission
--          an entry counts as the end of its publish until complete.lua
--          records the real end. 0 scores the entry at its admission.
-- ARGV[6..] the limit of each log, in the order of KEYS (integers >= 1),
--          then, with a record hash, the field that an admission sets to
--          the admitted count in the same step, such as a batch's plan.
--
-- Returns {admitted, wait_us}:
--   admitted  how many of the n were admitted: 0, or from minimum to n.
--   wait_us   0 when all n were admitted. Otherwise the microseconds until
--             every full log has room for minimum more (after a denial) or
--             for one more (after a partial admission), at most one window
--             when the entry to leave is still held.

local window = tonumber(ARGV[1])
local requested = tonumber(ARGV[2])
local minimum = tonumber(ARGV[3])
local request_id = ARGV[4]
local hold = tonumber(ARGV[5])
local logs = {}
local log_count = math.floor(#KEYS / 2)
local record_key = false
local record_field = false
if #KEYS % 2 == 1 then
  record_key = KEYS[#KEYS]
  record_field = ARGV[6 + log_count]
end
for i = 1, log_count do
  local limit = tonumber(ARGV[5 + i])
  logs[i] = {set = KEYS[2 * i - 1], counts = KEYS[2 * i], limit = limit}
  if minimum > limit then
    minimum = limit
  end
end

-- Lua 5.1 turns numbers above 1e14 into strings with an exponent, which
-- would round microsecond times, so numbers sent to Redis are formatted here.
local function integer(number)
  return string.format('%.0f', number)
end

local clock = redis.call('TIME')
local now = tonumber(clock[1]) * 1000000 + tonumber(clock[2])

-- wait_for_room returns the microseconds until log, holding total
-- admissions, has room for need more: until the oldest entries that must
-- leave have left the window.
local function wait_for_room(log, total, need)
  local excess = total + need - log.limit
  if excess <= 0 then
    return 0
  end
  local freed = 0
  local first = 0
  while true do
    local entries = redis.call('ZRANGE', log.set, first, first + 31, 'WITHSCORES')
    if #entries == 0 then
      return window
    end
    for j = 1, #entries, 2 do
      freed = freed + (tonumber(redis.call('HGET', log.counts, entries[j])) or 0)
      if freed >= excess then
        local wait = tonumber(entries[j + 1]) + window - now
        -- A held entry leaves one window after its publish ends, which
        -- is at least one window from now.
        return math.max(1, math.min(wait, window))
      end
    end
    first = first + 32
  end
end

-- trim removes the entries that left the window from log and returns the
-- admissions still in it. An entry at time t is inside the window while
-- now - t < window.
local function trim(log)
  if redis.call('EXISTS', log.set) == 0 then
    -- The counts cannot outlive their entries, but a hash left alone by a
    -- manual DEL of the set would otherwise block the log for good.
    redis.call('DEL', log.counts)
    return 0
  end
  local cutoff = integer(now - window)
  local expired = redis.call('ZRANGEBYSCORE', log.set, '-inf', cutoff)
  if #expired > 0 then
    local removed = 0
    for j = 1, #expired do
      removed = removed + (tonumber(redis.call('HGET', log.counts, expired[j])) or 0)
      redis.call('HDEL', log.counts, expired[j])
    end
    redis.call('ZREMRANGEBYSCORE', log.set, '-inf', cutoff)
    redis.call('HINCRBY', log.counts, 'total', -removed)
  end
  return tonumber(redis.call('HGET', log.counts, 'total')) or 0
end

-- A retried call finds its entry in the first log and gets the earlier
-- result back, so it is never admitted twice.
local earlier = redis.call('HGET', logs[1].counts, request_id)
if earlier then
  earlier = tonumber(earlier)
  local wait = 0
  if earlier < requested then
    for _, log in ipairs(logs) do
      wait = math.max(wait, wait_for_room(log, trim(log), 1))
    end
  end
  return {earlier, wait}
end

local totals = {}
local admitted = requested
for i, log in ipairs(logs) do
  totals[i] = trim(log)
  local free = log.limit - totals[i]
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
  local score = integer(now + hold)
  -- The keys outlive their newest entry by one window, then Redis drops
  -- them.
  local ttl = integer(math.ceil((hold + window) / 1000) + 1)
  for _, log in ipairs(logs) do
    redis.call('ZADD', log.set, score, request_id)
    redis.call('HSET', log.counts, request_id, admitted)
    redis.call('HINCRBY', log.counts, 'total', admitted)
    redis.call('PEXPIRE', log.set, ttl)
    redis.call('PEXPIRE', log.counts, ttl)
  end
  if record_key then
    redis.call('HSET', record_key, record_field, admitted)
  end
end

local wait = 0
if admitted < requested then
  for i, log in ipairs(logs) do
    wait = math.max(wait, wait_for_room(log, totals[i] + admitted, need))
  end
end
return {admitted, wait}
