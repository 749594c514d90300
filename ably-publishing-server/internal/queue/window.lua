-- Fills the processing list from the queue up to a size and returns its
-- head with the batch plan of its first trade.
--
-- KEYS[1]  the queue (list), trades taken from its head (LEFT).
-- KEYS[2]  this replica's processing list; trades are appended (RIGHT).
-- KEYS[3]  the batch plans (hash): field = SHA-1 of a batch's first
--          payload, value = how many trades were published in that batch.
-- ARGV[1]  size: the number of trades to return (integer >= 1).
-- ARGV[2]  offset: how many entries at the head of the processing list to
--          skip, because they are being published (integer >= 0).
--
-- Returns {payloads, plan, moved}: the size entries of the processing
-- list from offset on, oldest first, after moving trades from the queue
-- until the list holds offset+size entries or the queue is empty; the plan
-- of the first of them, or false when it has none; and how many trades
-- were moved. The script runs atomically, so a trade is always in exactly
-- one of the lists.

local size = tonumber(ARGV[1])
local offset = tonumber(ARGV[2])
local missing = offset + size - redis.call('LLEN', KEYS[2])
local moved = 0
if missing > 0 then
  -- One LRANGE, LTRIM and RPUSH move the trades in order, which costs far
  -- less than one LMOVE per trade.
  local taken = redis.call('LRANGE', KEYS[1], 0, missing - 1)
  moved = #taken
  if moved > 0 then
    redis.call('LTRIM', KEYS[1], moved, -1)
    -- RPUSH takes the payloads in chunks, because unpack of a very long
    -- table would overflow the Lua stack.
    local chunk = 500
    for first = 1, moved, chunk do
      redis.call('RPUSH', KEYS[2], unpack(taken, first, math.min(first + chunk - 1, moved)))
    end
  end
end
local payloads = redis.call('LRANGE', KEYS[2], offset, offset + size - 1)
local plan = false
if #payloads > 0 then
  plan = redis.call('HGET', KEYS[3], redis.sha1hex(payloads[1]))
end
return {payloads, plan, moved}
