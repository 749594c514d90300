-- Hands back the trades of a replica that is shutting down: moves every
-- trade in its processing list to the head of the queue, keeping their
-- order, so that they are taken next, and removes its lease, as one atomic
-- step.
--
-- KEYS[1]  processing list of the replica.
-- KEYS[2]  trade queue.
-- KEYS[3]  sorted set of replica leases (see renew.lua).
-- ARGV[1]  replica id.
--
-- Returns the number of trades moved to the queue.

local moved = redis.call('LLEN', KEYS[1])
-- Taking from the tail and pushing onto the head keeps the order: the
-- oldest trade of the list ends up first in the queue.
for _ = 1, moved do
  redis.call('LMOVE', KEYS[1], KEYS[2], 'RIGHT', 'LEFT')
end
redis.call('ZREM', KEYS[3], ARGV[1])
return moved
