-- WRITE: KEYS bucket, refresh, attempts, lock; ARGV field, entry, TTL ms
-- (0: none), token ('': not guarded), the key's base in hex without its
-- slot digits. The slot written, -1 if the mark is no longer ours, -2 if
-- the key hash is full. A guarded write releases the mark (one round trip
-- less per miss).
if ARGV[4] ~= '' and redis.call('GET', KEYS[4]) ~= ARGV[4] then return -1 end
local old = redis.call('HGET', KEYS[1], ARGV[1])
if old and #old < POS_SLOT then old = nil end
local slot = 0
if old then slot = string.byte(old, POS_SLOT) else
  local used = {}
  for _, v in ipairs(redis.call('HVALS', KEYS[1])) do if #v >= POS_SLOT then used[string.byte(v, POS_SLOT)] = true end end
  while used[slot] do slot = slot + 1 end
  if slot > LAST_SLOT then return -2 end
end
redis.call('HSET', KEYS[1], ARGV[1], string.sub(ARGV[2], 1, POS_SLOT - 1) .. string.char(slot) .. string.sub(ARGV[2], POS_SLOT + 1))
local ttl = tonumber(ARGV[3])
local cur = redis.call('PTTL', KEYS[1])
if ttl == 0 then redis.call('PERSIST', KEYS[1])
elseif redis.call('HLEN', KEYS[1]) == 1 or (cur >= 0 and cur < ttl) then redis.call('PEXPIRE', KEYS[1], ttl) end
local id = ARGV[5] .. string.format(SLOT_FMT, slot)
redis.call('ZREM', KEYS[2], id)
redis.call('HDEL', KEYS[3], id)
if ARGV[4] ~= '' then redis.call('DEL', KEYS[4]) end
return slot
