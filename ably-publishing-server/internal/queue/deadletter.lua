-- Moves one payload from a processing list to the dead-letter list, as one
-- atomic step, so that a trade is never in both lists or in neither.
--
-- KEYS[1]  processing list of the replica that took the trade.
-- KEYS[2]  dead-letter list.
-- ARGV[1]  payload, exactly as it was taken from the queue.
-- ARGV[2]  dead-letter entry (JSON) to append to KEYS[2].
--
-- Returns 1 when the payload was removed from KEYS[1] and the entry
-- appended. Returns 0 and writes nothing when KEYS[1] does not contain the
-- payload, because the trade was already handled and a second entry would
-- report it twice.

local removed = redis.call('LREM', KEYS[1], 1, ARGV[1])
if removed == 1 then
  redis.call('RPUSH', KEYS[2], ARGV[2])
end
return removed
