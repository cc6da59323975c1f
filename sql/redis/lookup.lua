-- LOOKUP: KEYS bucket, refresh, attempts; ARGV field, the key's base in hex
-- without its slot digits. The entry and its refresh state.
local v = redis.call('HGET', KEYS[1], ARGV[1])
if not v then return false end
if #v < POS_SLOT then return {v, false, false} end
local id = ARGV[2] .. string.format(SLOT_FMT, string.byte(v, POS_SLOT))
return {v, redis.call('ZSCORE', KEYS[2], id), redis.call('HGET', KEYS[3], id)}
