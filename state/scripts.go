package state

import (
	"strings"

	"github.com/redis/go-redis/v9"
)

// The Lua scripts below are the only multi-step writes Redis does for
// hookgate; each runs atomically, so a crash or a failover never leaves half
// of one behind. Every key a script touches lives under one hash tag (see
// Redis), so they also run on a cluster. Values cross the Lua boundary as
// strings only: Lua numbers would turn 13-digit millisecond times into
// floats such as "1.7e+12".
//
// A stream entry of the outbox has the fields id, body, attempts,
// enqueued_at and, once retried, last_error. A member of the retry set is
// the JSON object {ref, id, body, attempts, last_error, enqueued_at}, where
// ref is the stream id it was handed out under: unique, so two retries of
// the same event never collapse into one member, and the key of its
// enqueue time in the retry-age set. A dead letter is the JSON object {id,
// body, attempts, last_error, failed_at, enqueued_at} in a hash by event
// id, with its failure time in a sorted set.

// gateLua opens commitScript and claimScript: the checks every delivery
// passes before anything of it is written. It defines audit(list, entry)
// and returns early with 1 (duplicate), 3 (replay) or 5 (in flight); the
// dedupe and replay keys are KEYS[D] and KEYS[D + 1], used when ARGV[U]
// and ARGV[U + 1] are "1"; ARGV[OWN] is the delivery the replay key is
// marked for.
//
// A dedupe key holds "1" once its delivery was handled, a replay key
// "done:<delivery>" naming the delivery that handled its body; either
// holds "claim:<token>" while a gate-mode copy is in flight. A body done
// under another delivery is a replay even when the dedupe key is marked
// too (a ticket change's key is the change, not the delivery), and so is
// a body whose key is the dedupe key ("1") of a delivery that had no id.
const gateLua = `
local size = tonumber(ARGV[1])
local function audit(list, entry)
  redis.call('LPUSH', list, entry)
  redis.call('LTRIM', list, 0, size - 1)
end
local dk, rk = false, false
if ARGV[U] == '1' then dk = redis.call('GET', KEYS[D]) end
if ARGV[U + 1] == '1' then rk = redis.call('GET', KEYS[D + 1]) end
local own = 'done:' .. ARGV[OWN]
if rk == '1' or (rk and string.sub(rk, 1, 5) == 'done:' and rk ~= own) then
  audit(KEYS[REJ], ARGV[DUP + 1])
  return 3
end
if dk == '1' or rk == own then
  audit(KEYS[ACC], ARGV[DUP])
  return 1
end
if dk or rk then return 5 end
`

// orderLua reads the order marks of the events at ARGV[FIRST], ARGV[FIRST
// + STEP], ...: each has its ticket at offset OT ("" when not ordered) and
// its change time ms at OT + 1. It sets keep (the indexes of the events
// that are not stale), stale (how many are) and marks (ticket → newest
// time kept, as the string given).
const orderLua = `
local keep, marks, stale = {}, {}, 0
for i = FIRST, #ARGV, STEP do
  local t = ARGV[i + OT]
  if t == '' then
    keep[#keep + 1] = i
  else
    local at = ARGV[i + OT + 1]
    local cur = marks[t] or redis.call('HGET', KEYS[ORD], t)
    if cur and tonumber(cur) >= tonumber(at) then
      stale = stale + 1
    else
      keep[#keep + 1] = i
      marks[t] = at
    end
  end
end
`

// setMarksLua writes what orderLua kept, and sets the dedupe and replay
// keys for ttl ms: to claim when given, else to what a handled delivery
// leaves ("1", "done:<delivery>"). A ttl of "0" deletes them instead.
const setMarksLua = `
local function setkeys(claim, ttl)
  for j = 0, 1 do
    if ARGV[U + j] == '1' then
      if ttl == '0' then
        redis.call('DEL', KEYS[D + j])
      else
        local v = claim
        if not v then
          if j == 0 then v = '1' else v = 'done:' .. ARGV[OWN] end
        end
        redis.call('SET', KEYS[D + j], v, 'PX', ttl)
      end
    end
  end
end
local function setorder()
  for t, at in pairs(marks) do redis.call('HSET', KEYS[ORD], t, at) end
end
`

// luaWith fills the placeholders of a Lua fragment.
func luaWith(src string, vals ...string) string {
	return strings.NewReplacer(vals...).Replace(src)
}

// commitScript writes one verified delivery.
//
// KEYS: stream, retry set, accepted audit list, rejected audit list, order
// hash, dedupe key, replay key
// ARGV: audit size, accepted entry, duplicate entry, replay entry, stale
// entry, dedupe ttl ms ("0": no marks), enqueued_at ms, max outbox ("0":
// no bound), use dedupe key ("1"/"0"), use replay key, the delivery the
// replay key is for, then for each event: id, body, ticket ("" unordered),
// change time ms.
// Returns 0 when written, 1 duplicate, 2 outbox full (nothing written), 3
// replay, 4 stale (only the dedupe key is marked: a ticket delivery's key
// is its change, so the poller's next sighting of it is a duplicate), 5 in
// flight.
var commitScript = redis.NewScript(
	luaWith(gateLua, "ARGV[U]", "ARGV[9]", "ARGV[U + 1]", "ARGV[10]", "KEYS[D]", "KEYS[6]", "KEYS[D + 1]", "KEYS[7]",
		"KEYS[ACC]", "KEYS[3]", "KEYS[REJ]", "KEYS[4]", "ARGV[DUP]", "ARGV[3]", "ARGV[DUP + 1]", "ARGV[4]", "ARGV[OWN]", "ARGV[11]") +
		luaWith(orderLua, "FIRST", "12", "STEP", "4", "OT", "2", "KEYS[ORD]", "KEYS[5]") +
		luaWith(setMarksLua, "ARGV[U + j]", "ARGV[9 + j]", "KEYS[D + j]", "KEYS[6 + j]", "KEYS[ORD]", "KEYS[5]", "ARGV[OWN]", "ARGV[11]") + `
if stale > 0 and #keep == 0 then
  audit(KEYS[4], ARGV[5])
  if ARGV[9] == '1' and ARGV[6] ~= '0' then
    redis.call('SET', KEYS[6], '1', 'PX', ARGV[6])
  end
  return 4
end
local cap = tonumber(ARGV[8])
if cap > 0 and #keep > 0 and redis.call('XLEN', KEYS[1]) + redis.call('ZCARD', KEYS[2]) + #keep > cap then
  return 2
end
for _, i in ipairs(keep) do
  redis.call('XADD', KEYS[1], '*', 'id', ARGV[i], 'body', ARGV[i + 1],
    'attempts', '0', 'enqueued_at', ARGV[7])
end
audit(KEYS[3], ARGV[2])
setkeys(false, ARGV[6])
setorder()
return 0
`)

// claimScript claims one verified delivery for a gate-mode hand-on.
//
// KEYS: accepted audit list, rejected audit list, order hash, dedupe key,
// replay key
// ARGV: audit size, duplicate entry, replay entry, stale entry, claim
// value ("claim:<token>"), lease ms, use dedupe key, use replay key, the
// delivery the replay key is for, then for each event: ticket (""
// unordered), change time ms.
// Returns 0 when claimed, 1 duplicate, 3 replay, 4 stale, 5 in flight.
var claimScript = redis.NewScript(
	luaWith(gateLua, "ARGV[U]", "ARGV[7]", "ARGV[U + 1]", "ARGV[8]", "KEYS[D]", "KEYS[4]", "KEYS[D + 1]", "KEYS[5]",
		"KEYS[ACC]", "KEYS[1]", "KEYS[REJ]", "KEYS[2]", "ARGV[DUP]", "ARGV[2]", "ARGV[DUP + 1]", "ARGV[3]", "ARGV[OWN]", "ARGV[9]") +
		luaWith(orderLua, "FIRST", "10", "STEP", "2", "OT", "0", "KEYS[ORD]", "KEYS[3]") +
		luaWith(setMarksLua, "ARGV[U + j]", "ARGV[7 + j]", "KEYS[D + j]", "KEYS[4 + j]", "KEYS[ORD]", "KEYS[3]", "ARGV[OWN]", "ARGV[9]") + `
if stale > 0 then
  audit(KEYS[2], ARGV[4])
  return 4
end
setkeys(ARGV[5], ARGV[6])
return 0
`)

// finishScript marks a claimed delivery handled (gate mode).
//
// KEYS: accepted audit list, order hash, dedupe key, replay key
// ARGV: audit size, audit entry, dedupe ttl ms ("0": no marks), use dedupe
// key, use replay key, the delivery the replay key is for, then for each
// event: ticket, change time ms.
var finishScript = redis.NewScript(`
local size = tonumber(ARGV[1])
` + luaWith(orderLua, "FIRST", "7", "STEP", "2", "OT", "0", "KEYS[ORD]", "KEYS[2]") +
	luaWith(setMarksLua, "ARGV[U + j]", "ARGV[4 + j]", "KEYS[D + j]", "KEYS[3 + j]", "KEYS[ORD]", "KEYS[2]", "ARGV[OWN]", "ARGV[6]") + `
setkeys(false, ARGV[3])
setorder()
redis.call('LPUSH', KEYS[1], ARGV[2])
redis.call('LTRIM', KEYS[1], 0, size - 1)
return 1
`)

// releaseScript drops the claims one token holds.
//
// KEYS: dedupe key, replay key
// ARGV: claim value, use dedupe key, use replay key
var releaseScript = redis.NewScript(`
for j = 1, 2 do
  if ARGV[j + 1] == '1' and redis.call('GET', KEYS[j]) == ARGV[1] then
    redis.call('DEL', KEYS[j])
  end
end
return 1
`)

// auditScript pushes one entry to a capped audit list.
//
// KEYS: audit list
// ARGV: audit size, entry
var auditScript = redis.NewScript(`
redis.call('LPUSH', KEYS[1], ARGV[2])
redis.call('LTRIM', KEYS[1], 0, tonumber(ARGV[1]) - 1)
return 1
`)

// nextScript moves due retries back to the stream, reclaims entries idle
// longer than the reclaim time, and reads new entries, without blocking.
//
// KEYS: stream, retry set (score: due ms), retry-age set (score:
// enqueued_at ms, member: ref)
// ARGV: group, consumer, n, now ms, reclaim-after ms ("0": none), claim
// cursor, how many due retries to move at most
// Returns {next claim cursor, due ms of the next retry or "", entries}
// where each entry is {stream id, {field, value, ...}}.
var nextScript = redis.NewScript(`
local n = tonumber(ARGV[3])
local due = redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', ARGV[4], 'LIMIT', 0, tonumber(ARGV[7]))
for _, m in ipairs(due) do
  local e = cjson.decode(m)
  redis.call('XADD', KEYS[1], '*', 'id', e.id, 'body', e.body,
    'attempts', e.attempts, 'last_error', e.last_error, 'enqueued_at', e.enqueued_at)
  redis.call('ZREM', KEYS[2], m)
  redis.call('ZREM', KEYS[3], e.ref)
end
local out = {}
local cursor = ARGV[6]
if ARGV[5] ~= '0' then
  local c = redis.call('XAUTOCLAIM', KEYS[1], ARGV[1], ARGV[2], ARGV[5], cursor, 'COUNT', n)
  cursor = c[1]
  for _, m in ipairs(c[2]) do
    if m and m[2] then out[#out + 1] = m end
  end
end
if #out < n then
  local x = redis.call('XREADGROUP', 'GROUP', ARGV[1], ARGV[2], 'COUNT', n - #out,
    'STREAMS', KEYS[1], '>')
  if x then
    for _, m in ipairs(x[1][2]) do out[#out + 1] = m end
  end
end
local nxt = redis.call('ZRANGE', KEYS[2], 0, 0, 'WITHSCORES')
return {cursor, nxt[2] or '', out}
`)

// doneScript removes delivered entries.
//
// KEYS: stream
// ARGV: group, stream id, ... (at most maxDoneBatch ids)
var doneScript = redis.NewScript(`
redis.call('XACK', KEYS[1], ARGV[1], unpack(ARGV, 2))
redis.call('XDEL', KEYS[1], unpack(ARGV, 2))
return 1
`)

// maxDoneBatch bounds the ids of one doneScript call, well inside Lua's
// limit on unpacked values.
const maxDoneBatch = 256

// entryLua reads the fields of a pending stream entry after acknowledging
// it; both retryScript and deadScript start with it. An entry nobody holds
// any more (another consumer finished it) is left alone.
const entryLua = `
if redis.call('XACK', KEYS[1], ARGV[1], ARGV[2]) == 0 then return 0 end
local r = redis.call('XRANGE', KEYS[1], ARGV[2], ARGV[2])
redis.call('XDEL', KEYS[1], ARGV[2])
if #r == 0 then return 0 end
local f = {}
local kv = r[1][2]
for i = 1, #kv, 2 do f[kv[i]] = kv[i + 1] end
local attempts = tostring((tonumber(f.attempts) or 0) + 1)
local enq = f.enqueued_at or string.match(ARGV[2], '^(%d+)')
`

// retryScript moves a pending entry to the retry set.
//
// KEYS: stream, retry set, retry-age set
// ARGV: group, stream id, due ms, last error
var retryScript = redis.NewScript(entryLua + `
local m = cjson.encode({ref = ARGV[2], id = f.id or '', body = f.body or '',
  attempts = attempts, last_error = ARGV[4], enqueued_at = enq})
redis.call('ZADD', KEYS[2], ARGV[3], m)
redis.call('ZADD', KEYS[3], enq, ARGV[2])
return 1
`)

// handBackScript hands pending entries back: each goes to the retry set,
// due at once, with its attempts and last error as they were.
//
// KEYS: stream, retry set, retry-age set
// ARGV: group, due ms, stream id, ... (at most maxDoneBatch ids)
var handBackScript = redis.NewScript(`
local n = 0
for i = 3, #ARGV do
  local sid = ARGV[i]
  if redis.call('XACK', KEYS[1], ARGV[1], sid) == 1 then
    local r = redis.call('XRANGE', KEYS[1], sid, sid)
    redis.call('XDEL', KEYS[1], sid)
    if #r > 0 then
      local f = {}
      local kv = r[1][2]
      for j = 1, #kv, 2 do f[kv[j]] = kv[j + 1] end
      local enq = f.enqueued_at or string.match(sid, '^(%d+)')
      local m = cjson.encode({ref = sid, id = f.id or '', body = f.body or '',
        attempts = f.attempts or '0', last_error = f.last_error or '', enqueued_at = enq})
      redis.call('ZADD', KEYS[2], ARGV[2], m)
      redis.call('ZADD', KEYS[3], enq, sid)
      n = n + 1
    end
  end
end
return n
`)

// deadScript moves a pending entry to the dead letters.
//
// KEYS: stream, dead-letter hash, dead-letter failure-time set
// ARGV: group, stream id, failed_at ms, last error
var deadScript = redis.NewScript(entryLua + `
local id = f.id or ''
local d = cjson.encode({id = id, body = f.body or '', attempts = attempts,
  last_error = ARGV[4], failed_at = ARGV[3], enqueued_at = enq})
redis.call('HSET', KEYS[2], id, d)
redis.call('ZADD', KEYS[3], ARGV[3], id)
return 1
`)

// deadLettersScript lists dead letters, oldest failure first.
//
// KEYS: dead-letter hash, dead-letter failure-time set
// ARGV: limit (-1: all)
var deadLettersScript = redis.NewScript(`
local ids = redis.call('ZRANGE', KEYS[2], 0, tonumber(ARGV[1]))
local out = {}
for _, id in ipairs(ids) do
  local d = redis.call('HGET', KEYS[1], id)
  if d then out[#out + 1] = d end
end
return out
`)

// redriveScript puts dead letters back on the stream with attempts reset.
//
// KEYS: stream, dead-letter hash, dead-letter failure-time set
// ARGV: enqueued_at ms, limit for "all", then the ids (none: the oldest
// up to limit)
// Returns {how many moved, how many ids were looked at}.
var redriveScript = redis.NewScript(`
local ids = {}
if #ARGV > 2 then
  for i = 3, #ARGV do ids[#ids + 1] = ARGV[i] end
else
  ids = redis.call('ZRANGE', KEYS[3], 0, tonumber(ARGV[2]) - 1)
end
local moved = 0
for _, id in ipairs(ids) do
  local d = redis.call('HGET', KEYS[2], id)
  if d then
    local e = cjson.decode(d)
    redis.call('XADD', KEYS[1], '*', 'id', e.id, 'body', e.body,
      'attempts', '0', 'enqueued_at', ARGV[1])
    redis.call('HDEL', KEYS[2], id)
    moved = moved + 1
  end
  redis.call('ZREM', KEYS[3], id)
end
return {moved, #ids}
`)

// statsScript reports the outbox length and the oldest enqueue times.
//
// KEYS: stream, retry set, retry-age set
// Returns {stream length, retry length, oldest stream enqueued_at ms or "",
// oldest retry enqueued_at ms or ""}.
var statsScript = redis.NewScript(`
local oldest = ''
local first = redis.call('XRANGE', KEYS[1], '-', '+', 'COUNT', 1)
if first[1] then
  local kv = first[1][2]
  for i = 1, #kv, 2 do
    if kv[i] == 'enqueued_at' then oldest = kv[i + 1] end
  end
  if oldest == '' then oldest = string.match(first[1][1], '^(%d+)') end
end
local r = redis.call('ZRANGE', KEYS[3], 0, 0, 'WITHSCORES')
return {redis.call('XLEN', KEYS[1]), redis.call('ZCARD', KEYS[2]), oldest, r[2] or ''}
`)
