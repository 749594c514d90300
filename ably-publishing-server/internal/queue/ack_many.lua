-- Removes the trades of a published batch from a processing list and
-- deletes the batch's plan.
--
-- KEYS[1]  the processing list.
-- KEYS[2]  the batch plans (hash), see window.lua.
-- ARGV[1]  SHA-1 of the batch's first payload.
-- ARGV[2..] the payloads to remove, one copy of each.
--
-- Returns how many of the payloads were found and removed.

local removed = 0
for i = 2, #ARGV do
  removed = removed + redis.call('LREM', KEYS[1], 1, ARGV[i])
end
redis.call('HDEL', KEYS[2], ARGV[1])
return removed
