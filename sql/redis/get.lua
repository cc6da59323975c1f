-- GET: KEYS bucket, refresh, attempts; ARGV slot, id (hex). The entry in
-- that slot: field, entry, retry_at, attempts.
local kv = redis.call('HGETALL', KEYS[1])
local slot = tonumber(ARGV[1])
for i = 1, #kv, 2 do
  if string.byte(kv[i+1], POS_SLOT) == slot then
    return {kv[i], kv[i+1], redis.call('ZSCORE', KEYS[2], ARGV[2]), redis.call('HGET', KEYS[3], ARGV[2])}
  end
end
return false
