-- Moves one dead-letter entry back to the queue: removes the entry from
-- the dead-letter list and appends its payload to the queue, where
-- producers append, as one atomic step. An interrupted requeue therefore
-- never loses an entry and never queues one twice.
--
-- KEYS[1]  dead-letter list.
-- KEYS[2]  trade queue.
-- ARGV[1]  the entry (JSON) exactly as stored in KEYS[1].
-- ARGV[2]  the entry's payload exactly as it was on the queue; the caller
--          decodes it from the entry, because a payload that is not UTF-8
--          is stored base64-encoded.
--
-- Returns 1 when the entry was moved. Returns 0 and writes nothing when
-- KEYS[1] no longer contains the entry, because someone else moved it.

local removed = redis.call('LREM', KEYS[1], 1, ARGV[1])
if removed == 1 then
  redis.call('RPUSH', KEYS[2], ARGV[2])
end
return removed
