-- Removes the trades of a published batch from a processing list and
-- deletes the batch's plan.
--
-- KEYS[1]  the processing list.
-- KEYS[2]  the batch plans (hash), see window.lua.
-- ARGV[1]  SHA-1 of the batch's first payload.
-- ARGV[2..] the payloads to remove, one copy of each.
--
-- Returns how many of the payloads were found and removed.

local count = #ARGV - 1
local removed = 0

-- A batch of one channel is normally the head of the list, in order: then
-- one LTRIM removes it. Otherwise each payload is removed by LREM.
local head = redis.call('LRANGE', KEYS[1], 0, count - 1)
local prefix = #head == count
for i = 1, count do
  if not prefix or head[i] ~= ARGV[i + 1] then
    prefix = false
    break
  end
end
if prefix then
  redis.call('LTRIM', KEYS[1], count, -1)
  removed = count
else
  for i = 2, #ARGV do
    removed = removed + redis.call('LREM', KEYS[1], 1, ARGV[i])
  end
end
redis.call('HDEL', KEYS[2], ARGV[1])
return removed
