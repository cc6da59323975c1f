-- DELETE: KEYS bucket, refresh, attempts; ARGV slot, id. How many entries
-- went.
local kv = redis.call('HGETALL', KEYS[1])
local slot = tonumber(ARGV[1])
local n = 0
for i = 1, #kv, 2 do
  if string.byte(kv[i+1], POS_SLOT) == slot then redis.call('HDEL', KEYS[1], kv[i]) n = n + 1 end
end
redis.call('ZREM', KEYS[2], ARGV[2])
redis.call('HDEL', KEYS[3], ARGV[2])
return n
