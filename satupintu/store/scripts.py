"""Lua scripts of the Redis store: each runs atomically inside Redis.

Every key a script writes is passed in KEYS and carries the branch hash tag,
so one branch lives in one cluster slot. The read scripts build ticket keys
from a key prefix (same hash tag, same slot) because which tickets they read
is only known inside the script.
"""

from __future__ import annotations

# Number, enqueue and sequence a new ticket, or refuse on the daily quota.
#
# KEYS[1]  issued count of (day, origin service)          string
# KEYS[2]  last number of (day, prefix)                    string
# KEYS[3]  branch sequence                                  string
# KEYS[4]  the new ticket                                   hash
# KEYS[5]  priority line of (day, service)                  sorted set
# KEYS[6]  ordinary line of (day, service)                  sorted set
# KEYS[7]  number -> ticket id of the day                   hash
# KEYS[8]  ticket ids of the day                            set
# KEYS[9]  services that had a line that day                set
# KEYS[10] idempotency keys of the day: key -> JSON         hash
#          {fingerprint, ticket, ahead, waiting}
# ARGV[1]  quota (0 = none)          ARGV[2] number prefix ("A")
# ARGV[3]  extra seqs to allocate    ARGV[4] TTL of day-scoped keys, seconds
# ARGV[5]  ticket id                 ARGV[6] service
# ARGV[7]  "1" if priority ticket    ARGV[8] idempotency key ("" for none)
# ARGV[9]  its request fingerprint   ARGV[10..] ticket field, value, ... (without
#          number, sort_key and version, which the script sets)
# Returns {"QUOTA"} or {"REUSED"} (nothing written),
#         {"REPLAY", ticket id, people ahead, waiting} (the key's ticket; nothing written) or
#         {"OK", number, first seq, last seq, people ahead, waiting for the service}.
ISSUE = """
local idem = ARGV[8]
if idem ~= '' then
  local seen = redis.call('HGET', KEYS[10], idem)
  if seen then
    local record = cjson.decode(seen)
    if record.fingerprint ~= ARGV[9] then return {'REUSED'} end
    return {'REPLAY', record.ticket, record.ahead, record.waiting}
  end
end
local quota = tonumber(ARGV[1])
if quota > 0 and tonumber(redis.call('GET', KEYS[1]) or '0') >= quota then
  return {'QUOTA'}
end
local ttl = ARGV[4]
local id = ARGV[5]
local n = redis.call('INCR', KEYS[2])
local number = string.format('%s%03d', ARGV[2], n)
redis.call('INCR', KEYS[1])
local count = 1 + tonumber(ARGV[3])
local last = redis.call('INCRBY', KEYS[3], count)
local first = last - count + 1
local fields = {'number', number, 'sort_key', first, 'version', 1}
for i = 10, #ARGV do fields[#fields + 1] = ARGV[i] end
redis.call('HSET', KEYS[4], unpack(fields))
local prio = ARGV[7] == '1'
local line = prio and KEYS[5] or KEYS[6]
redis.call('ZADD', line, first, id)
redis.call('HSET', KEYS[7], number, id)
redis.call('SADD', KEYS[8], id)
redis.call('SADD', KEYS[9], ARGV[6])
for _, k in ipairs({KEYS[1], KEYS[2], KEYS[4], line, KEYS[7], KEYS[8], KEYS[9]}) do
  redis.call('EXPIRE', k, ttl)
end
-- Strictly lower sort_key, like SQLite: ties never count each other.
local ahead = redis.call('ZCOUNT', line, '-inf', '(' .. first)
if not prio then ahead = ahead + redis.call('ZCARD', KEYS[5]) end
local waiting = redis.call('ZCARD', KEYS[5]) + redis.call('ZCARD', KEYS[6])
if idem ~= '' then
  redis.call('HSET', KEYS[10], idem, cjson.encode(
    {fingerprint = ARGV[9], ticket = id, ahead = ahead, waiting = waiting}))
  redis.call('EXPIRE', KEYS[10], ttl)
end
return {'OK', number, first, last, ahead, waiting}
"""

# Apply one Change: check every version guard, then write everything.
# The plan is computed in Python (which lines to leave and join follows from
# the old and new ticket, and the guard proves the old one is what is stored).
#
# KEYS[1]  branch sequence                                  string
# KEYS[2]  call log, newest first                           list
# KEYS[3..] every other key the plan names, by index into KEYS
# ARGV[1]  plan, JSON:
#   guards  [[key, version], ...]   hash field `version` must equal it;
#                                   version "" means the key must not exist
#   hsets   [[key, [field, value, ...]], ...]
#   zrems   [[key, member], ...]    run before zadds (a ticket may stay in a line)
#   zadds   [[key, score, member], ...]
#   sadds   [[key, member], ...]
#   times   [[key, seconds], ...]   LPUSH then LTRIM to times_kept
#   expire  [key, ...]              day-scoped keys written: TTL again
#   calls   [json, ...]             LPUSH in order then LTRIM to calls_kept
#   seq_count, ttl, times_kept, calls_kept   integers (seq_count: sequence numbers to allocate)
# Returns {"CONFLICT", guard index (1-based)} having written nothing, or
#         {"OK", first seq, last seq} (first > last when seq_count is 0).
COMMIT = """
local plan = cjson.decode(ARGV[1])
for i, g in ipairs(plan.guards) do
  local key = KEYS[g[1]]
  if g[2] == '' then
    if redis.call('EXISTS', key) == 1 then return {'CONFLICT', i} end
  elseif redis.call('HGET', key, 'version') ~= g[2] then
    return {'CONFLICT', i}
  end
end
for _, h in ipairs(plan.hsets) do redis.call('HSET', KEYS[h[1]], unpack(h[2])) end
for _, z in ipairs(plan.zrems) do redis.call('ZREM', KEYS[z[1]], z[2]) end
for _, z in ipairs(plan.zadds) do redis.call('ZADD', KEYS[z[1]], z[2], z[3]) end
for _, s in ipairs(plan.sadds) do redis.call('SADD', KEYS[s[1]], s[2]) end
for _, t in ipairs(plan.times) do
  redis.call('LPUSH', KEYS[t[1]], t[2])
  redis.call('LTRIM', KEYS[t[1]], 0, plan.times_kept - 1)
end
for _, k in ipairs(plan.expire) do redis.call('EXPIRE', KEYS[k], plan.ttl) end
if #plan.calls > 0 then
  for _, c in ipairs(plan.calls) do redis.call('LPUSH', KEYS[2], c) end
  redis.call('LTRIM', KEYS[2], 0, plan.calls_kept - 1)
end
local last = tonumber(redis.call('GET', KEYS[1]) or '0')
if plan.seq_count > 0 then last = redis.call('INCRBY', KEYS[1], plan.seq_count) end
return {'OK', last - plan.seq_count + 1, last}
"""

# Create a counter unless it exists (existing counters keep their state).
#
# KEYS[1]  the counter                                      hash
# KEYS[2]  counter ids of the branch                        set
# ARGV[1]  counter id    ARGV[2..] field, value, ...
# Returns 1 if created, 0 if it existed.
SEED_COUNTER = """
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
redis.call('HSET', KEYS[1], unpack(ARGV, 2))
redis.call('SADD', KEYS[2], ARGV[1])
return 1
"""

# Read the first `limit` members of some lines with their tickets, atomically,
# so every ticket returned is waiting at the same instant.
#
# KEYS[1..n]  lines, read in order until `limit` tickets     sorted sets
# ARGV[1]     ticket key prefix ("sp:{main}:ticket:")
# ARGV[2]     limit per line ("1" for heads) or overall
# ARGV[3]     "each": limit applies to every line; "all": to all lines together
# Returns one array per line, each a list of flat HGETALL replies.
READ_LINES = """
local limit = tonumber(ARGV[2])
local left = limit
local out = {}
for i, line in ipairs(KEYS) do
  local take = ARGV[3] == 'each' and limit or left
  local got = {}
  if take > 0 then
    for _, id in ipairs(redis.call('ZRANGE', line, 0, take - 1)) do
      got[#got + 1] = redis.call('HGETALL', ARGV[1] .. id)
    end
  end
  left = left - #got
  out[i] = got
end
return out
"""

# Every counter of a branch with its record, in one round trip (the estimates
# read them on every issue and call).
#
# KEYS[1]  counter ids of the branch                        set
# ARGV[1]  counter key prefix ("sp:{main}:counter:")
# Returns the HGETALL replies (flat field, value lists), ordered by counter id.
READ_COUNTERS = """
local ids = redis.call('SMEMBERS', KEYS[1])
table.sort(ids)
local out = {}
for _, id in ipairs(ids) do
  local record = redis.call('HGETALL', ARGV[1] .. id)
  if #record > 0 then out[#out + 1] = record end
end
return out
"""

# Replace the managers' catalogue edits if nobody changed them since they were read.
#
# KEYS[1]  the catalogue edits                              hash (version, overrides)
# KEYS[2]  branch sequence                                  string
# ARGV[1]  expected version (0 before the first edit)    ARGV[2] overrides, JSON
# ARGV[3]  seqs to allocate
# Returns {"CONFLICT"} having written nothing, or
#         {"OK", first seq, last seq} (first > last when no seqs were asked for).
PUT_CATALOGUE = """
local version = tonumber(redis.call('HGET', KEYS[1], 'version') or '0')
if version ~= tonumber(ARGV[1]) then return {'CONFLICT'} end
redis.call('HSET', KEYS[1], 'version', version + 1, 'overrides', ARGV[2])
local count = tonumber(ARGV[3])
local last = tonumber(redis.call('GET', KEYS[2]) or '0')
if count > 0 then last = redis.call('INCRBY', KEYS[2], count) end
return {'OK', last - count + 1, last}
"""

# Count one hit in a sliding window unless the window is full (rate limits).
#
# KEYS[1]  hits of one limiter key                          sorted set (member -> time)
# ARGV[1]  now (epoch s)     ARGV[2] window (s)     ARGV[3] limit
# ARGV[4]  a unique member for this hit
# Returns "0" (counted) or the seconds until the oldest hit leaves the window.
HIT = """
local now, window, limit = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
if redis.call('ZCARD', KEYS[1]) >= limit then
  local oldest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
  return tostring(math.max(0.001, tonumber(oldest[2]) + window - now))
end
redis.call('ZADD', KEYS[1], now, ARGV[4])
redis.call('PEXPIRE', KEYS[1], math.ceil(window * 1000))
return '0'
"""

# Store a new print job; a pending one joins its kiosk's pending set.
#
# KEYS[1]  the job                                          hash
# KEYS[2]  job ids of the ticket                            set
# KEYS[3]  pending job ids of the kiosk                     sorted set
# ARGV[1]  job id    ARGV[2] created (the pending score)    ARGV[3] "1" if pending
# ARGV[4]  TTL of the job and the ticket's set, seconds    ARGV[5..] field, value, ...
# Returns 1.
ADD_PRINT_JOB = """
redis.call('HSET', KEYS[1], unpack(ARGV, 5))
redis.call('EXPIRE', KEYS[1], ARGV[4])
redis.call('SADD', KEYS[2], ARGV[1])
redis.call('EXPIRE', KEYS[2], ARGV[4])
if ARGV[3] == '1' then redis.call('ZADD', KEYS[3], ARGV[2], ARGV[1]) end
return 1
"""

# Move a pending print job to its final state, exactly once.
#
# KEYS[1]  pending job ids of the job's kiosk               sorted set
# KEYS[2]  the job                                          hash
# ARGV[1]  job id    ARGV[2] new state    ARGV[3] detail    ARGV[4] now (acked)
# Returns 1 if this call finished it, 0 if it was not pending (a repeat).
FINISH_PRINT_JOB = """
if redis.call('ZREM', KEYS[1], ARGV[1]) == 0 then return 0 end
if redis.call('EXISTS', KEYS[2]) == 0 then return 0 end  -- gone by TTL: never recreate it
redis.call('HSET', KEYS[2], 'state', ARGV[2], 'detail', ARGV[3], 'acked', ARGV[4])
return 1
"""

# Count one delivery attempt of a print job that still exists.
#
# KEYS[1]  the job                                          hash
# Returns the attempts so far, or 0 if the job is gone (expired by TTL).
PRINT_JOB_DELIVERED = """
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
return redis.call('HINCRBY', KEYS[1], 'attempts', 1)
"""
