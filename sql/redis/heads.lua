-- HEADS: ARGV bucket keys, each followed by a NUL. What totals and eviction
-- need of each entry, without its value: a flat list of (bucket's index
-- from 1, slot, logical size, stored size, compute ns, created as text).
-- Keys not of a hash are skipped.
local out = {}
local i, pos = 0, 1
while pos <= #ARGV[1] do
  local e = string.find(ARGV[1], '\0', pos, true)
  local k = string.sub(ARGV[1], pos, e - 1)
  pos = e + 1
  i = i + 1
  local vals = redis.pcall('HVALS', k)
  if type(vals) == 'table' and not vals.err then
    for _, v in ipairs(vals) do
      if #v >= HEADER_SIZE and string.byte(v, POS_FORMAT) == ENTRY_FORMAT then
        local nargs = struct.unpack('<I4', v, POS_NARGS)
        local nbytes = struct.unpack('<i8', v, POS_NBYTES)
        local stored = nbytes
        if struct.unpack('<i8', v, POS_CODEC) ~= 0 then
          stored = #v - HEADER_SIZE - nargs - 8 * string.byte(v, POS_STAMP)
        end
        out[#out+1] = i
        out[#out+1] = string.byte(v, POS_SLOT)
        out[#out+1] = nbytes
        out[#out+1] = stored
        out[#out+1] = struct.unpack('<i8', v, POS_COMPUTE)
        out[#out+1] = string.format('%.17g', struct.unpack('<d', v, POS_CREATED))
      end
    end
  end
end
return out
