-- Takes over the processing list of a replica that stopped: moves every
-- trade in it to the claimer's processing list, keeping their order, and
-- removes the stopped replica's lease, as one atomic step. The claimer then
-- publishes the trades, so no trade stays behind in a list that no replica reads.
--
-- KEYS[1]  sorted set of replica leases (see renew.lua).
-- KEYS[2]  processing list of the replica to take over.
-- KEYS[3]  processing list of the claimer.
-- ARGV[1]  id of the replica to take over.
-- ARGV[2]  id of the claimer.
--
-- Returns {moved, expired_ms}:
--   moved       the number of trades moved, or a negative code when
--               nothing changed:
--               -1  the claimer's own lease is not live. A replica cut off
--                   from Redis must not take over others.
--               -2  the other replica's lease is live.
--               -3  there was neither a lease nor a trade, because another
--                   replica took over first.
--   expired_ms  how long ago the other replica's lease expired, or -1 when
--               it had no lease, which leaves a processing list without an
--               owner.

local clock = redis.call('TIME')
local now = tonumber(clock[1]) * 1000 + math.floor(tonumber(clock[2]) / 1000)

local own = redis.call('ZSCORE', KEYS[1], ARGV[2])
if not own or tonumber(own) <= now then
  return {-1, 0}
end

local expired = -1
local lease = redis.call('ZSCORE', KEYS[1], ARGV[1])
if lease then
  if tonumber(lease) > now then
    return {-2, 0}
  end
  expired = now - tonumber(lease)
end

-- A processing list contains the trade in flight and the trades claimed but
-- not yet published, so it is short and the loop is bounded by its length.
local moved = redis.call('LLEN', KEYS[2])
if moved == 0 and not lease then
  return {-3, 0}
end
for _ = 1, moved do
  redis.call('LMOVE', KEYS[2], KEYS[3], 'LEFT', 'RIGHT')
end
redis.call('ZREM', KEYS[1], ARGV[1])
return {moved, expired}
