-- Acknowledges a published batch, then fills the processing list from the
-- queue and returns the entries after the batches in flight, with the
-- batch plan of the first. Either part can be left out.
--
-- KEYS[1]  the queue (list), trades taken from its head (LEFT).
-- KEYS[2]  this replica's processing list; trades are appended (RIGHT).
-- KEYS[3]  the batch plans (hash): field = SHA-1 of a batch's first
--          payload, value = how many trades were published in that batch.
-- ARGV[1]  size: the number of trades to return (integer >= 0; 0 reads
--          nothing and moves nothing).
-- ARGV[2]  offset: how many entries at the head of the processing list to
--          skip, because they are being published (integer >= 0), counted
--          after the acknowledgement.
-- ARGV[3]  the number of payloads to acknowledge (integer >= 0).
-- ARGV[4]  SHA-1 of the first acknowledged payload, whose plan is deleted.
-- ARGV[5..] the payloads to acknowledge, one copy of each.
--
-- Returns {payloads, plan, moved, removed, next_plan}: the size entries of
-- the processing list from offset on, oldest first, after moving trades
-- from the queue until the list contains offset+size entries or the queue is
-- empty; the plan of the first of them, or false when it has none; how
-- many trades were moved; how many acknowledged payloads were found and
-- removed; and the 0-based index in payloads of the first entry after the
-- first that starts a planned batch, or 0 when none does. The script runs atomically, so a trade is always in exactly
-- one of the lists.

local size = tonumber(ARGV[1])
local offset = tonumber(ARGV[2])
local acked = tonumber(ARGV[3])

local removed = 0
if acked > 0 then
  -- A batch of one channel is normally the head of the list, in order:
  -- then one LTRIM removes it. Otherwise each payload is removed by LREM.
  local head = redis.call('LRANGE', KEYS[2], 0, acked - 1)
  local prefix = #head == acked
  for i = 1, acked do
    if not prefix or head[i] ~= ARGV[4 + i] then
      prefix = false
      break
    end
  end
  if prefix then
    redis.call('LTRIM', KEYS[2], acked, -1)
    removed = acked
  else
    for i = 1, acked do
      removed = removed + redis.call('LREM', KEYS[2], 1, ARGV[4 + i])
    end
  end
  redis.call('HDEL', KEYS[3], ARGV[4])
end

local payloads = {}
local plan = false
local moved = 0
local next_plan = 0
if size > 0 then
  local missing = offset + size - redis.call('LLEN', KEYS[2])
  if missing > 0 then
    -- One LRANGE, LTRIM and RPUSH move the trades in order, which costs
    -- far less than one LMOVE per trade.
    local moving = redis.call('LRANGE', KEYS[1], 0, missing - 1)
    moved = #moving
    if moved > 0 then
      redis.call('LTRIM', KEYS[1], moved, -1)
      -- RPUSH takes the payloads in chunks, because unpack of a very long
      -- table would overflow the Lua stack.
      local chunk = 500
      for first = 1, moved, chunk do
        redis.call('RPUSH', KEYS[2], unpack(moving, first, math.min(first + chunk - 1, moved)))
      end
    end
  end
  payloads = redis.call('LRANGE', KEYS[2], offset, offset + size - 1)
  if #payloads > 0 then
    plan = redis.call('HGET', KEYS[3], redis.sha1hex(payloads[1]))
  end
  -- A planned batch taken over from a stopped replica can start anywhere
  -- in the list, and a new batch must end before it.
  -- NOTE: with several replicas some plan nearly always exists, so this
  -- hashes every later entry of each window, at a cost in Redis CPU.
  if #payloads > 1 and redis.call('HLEN', KEYS[3]) > 0 then
    for i = 2, #payloads do
      if redis.call('HEXISTS', KEYS[3], redis.sha1hex(payloads[i])) == 1 then
        next_plan = i - 1
        break
      end
    end
  end
end
return {payloads, plan, moved, removed, next_plan}
