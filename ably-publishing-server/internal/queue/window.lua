-- Fills the processing list from the queue up to a size and returns its
-- head with the batch plan of its first trade.
--
-- KEYS[1]  the queue (list), trades taken from its head (LEFT).
-- KEYS[2]  this replica's processing list; trades are appended (RIGHT).
-- KEYS[3]  the batch plans (hash): field = SHA-1 of a batch's first
--          payload, value = how many trades were published in that batch.
-- ARGV[1]  size: the number of trades the processing list should hold
--          (integer >= 1).
--
-- Returns {payloads, plan}: the first size entries of the processing list,
-- oldest first, after moving trades from the queue until the list holds
-- size entries or the queue is empty, and the plan of the first entry, or
-- false when it has none. A trade is always in exactly one of the lists.

local size = tonumber(ARGV[1])
local held = redis.call('LLEN', KEYS[2])
for _ = held + 1, size do
  if not redis.call('LMOVE', KEYS[1], KEYS[2], 'LEFT', 'RIGHT') then
    break
  end
end
local payloads = redis.call('LRANGE', KEYS[2], 0, size - 1)
local plan = false
if #payloads > 0 then
  plan = redis.call('HGET', KEYS[3], redis.sha1hex(payloads[1]))
end
return {payloads, plan}
