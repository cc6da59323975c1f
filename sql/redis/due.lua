-- DUE: KEYS refresh, attempts; ARGV now, bucket key prefix "P:FN:". The
-- marked ids due at now whose entry still exists (marks of entries gone,
-- expired or evicted, are dropped).
local out = {}
for _, id in ipairs(redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1])) do
  local slot = tonumber(string.sub(id, -SLOT_HEX), 16)
  local found = false
  for _, v in ipairs(redis.call('HVALS', ARGV[2] .. string.sub(id, 1, #id - SLOT_HEX) .. string.rep('0', SLOT_HEX))) do
    if string.byte(v, POS_SLOT) == slot then found = true break end
  end
  if found then out[#out+1] = id else
    redis.call('ZREM', KEYS[1], id) redis.call('HDEL', KEYS[2], id) end
end
return out
