/**
 * The Redis side of the records the Redis store keeps beside BullMQ's jobs: events with their per-target results,
 * the dedupe window, dead letters, per-delivery state and the counters `/health` reads. Each script runs atomically in
 * Redis, so several API and worker processes never see a half-written record.
 *
 * Every key starts with the store's prefix (`KEYS[1]`, which carries a Redis Cluster hash tag such as
 * `{open-actions}:~`), so all of them live in one slot, next to BullMQ's keys for the same prefix.
 *
 * Records: `ev:<eventId>|<generation>` is a hash with `s` (0 while the accepting process adds the jobs, 1 once
 * committed), `a` (accepted at), `rc` (received at), `e` (the event's JSON), `t` (its targets' JSON), `n` targets,
 * `p` deliveries pending, `d` dead letters live, `u`/`an` the user's ids, and per target `r:<i>` (status `p` pending,
 * `f` in flight, `d` delivered, `x` dead-lettered; attempts `at`; `hs` HTTP status; `na` next attempt; `dl` dead letter
 * id; `j` the BullMQ job id; `l` the lane) with `d:<i>` (the detail, JSON text). `cur` maps an event id to its latest
 * generation; `dd` (event id → accepted at) is the dedupe window.
 */

const COMMON = `
local P = KEYS[1]
local function recKey(id, g) return P .. 'ev:' .. id .. '|' .. g end
-- A retry's member: generation and target index first, so retries due at the same time go out in acceptance order.
local function retryMember(g, i, job) return string.format('%015d|%04d|%s', tonumber(g), tonumber(i), job) end
local function decrLetters(instance)
  local left = redis.call('HINCRBY', P .. 'dlc', instance, -1)
  if left <= 0 then redis.call('HDEL', P .. 'dlc', instance) end
end
local function dropRecord(id, g)
  local key = recKey(id, g)
  local f = redis.call('HMGET', key, 'n', 'u', 'an')
  if not f[1] then return 0 end
  local idg = id .. '|' .. g
  for i = 0, tonumber(f[1]) - 1 do redis.call('DEL', P .. 'st:' .. idg .. '|' .. i) end
  if f[2] then redis.call('SREM', P .. 'user:' .. f[2], idg) end
  if f[3] then redis.call('SREM', P .. 'anon:' .. f[3], idg) end
  redis.call('ZREM', P .. 'pend', idg)
  redis.call('ZREM', P .. 'done', idg)
  redis.call('DEL', key)
  if redis.call('HGET', P .. 'cur', id) == g then redis.call('HDEL', P .. 'cur', id) end
  return 1
end
-- Lists a dead letter: its fields, its place in the list (sorted by time, then id) and its instance's count.
local function addLetter(lid, at, f)
  local member = string.format('%015d|%s', at, lid)
  redis.call('HSET', P .. 'dl:' .. lid, 'm', member, 'at', at, 'id', f.id, 'g', f.g, 'i', f.i, 'l', f.l,
    'in', f.tin, 'tg', f.tg, 'hs', f.hs or '', 'rs', f.rs, 'att', f.att, 'e', f.e)
  redis.call('ZADD', P .. 'dl', 0, member)
  redis.call('HINCRBY', P .. 'dlc', f.tin, 1)
end
local function removeLetter(lid)
  local lk = P .. 'dl:' .. lid
  local f = redis.call('HMGET', lk, 'm', 'id', 'g', 'i', 'l', 'in')
  if not f[1] then return nil end
  redis.call('DEL', lk)
  redis.call('ZREM', P .. 'dl', f[1])
  decrLetters(f[6])
  return f
end
local function replayLetter(lid, now, job)
  local f = removeLetter(lid)
  if not f then return 0 end
  local id, g, i, lane = f[2], f[3], f[4], f[5]
  local key = recKey(id, g)
  if redis.call('HEXISTS', key, 'r:' .. i) == 0 then return 1 end
  redis.call('HSET', key, 'r:' .. i, cjson.encode({st = 'p', at = 0, j = job, l = lane}))
  redis.call('HDEL', key, 'd:' .. i)
  redis.call('HINCRBY', key, 'p', 1)
  redis.call('HINCRBY', key, 'd', -1)
  local idg = id .. '|' .. g
  if redis.call('HGET', key, 's') == '1' then redis.call('INCR', P .. 'backlog') end
  redis.call('ZADD', P .. 'pend', redis.call('HGET', key, 'rc'), idg)
  redis.call('ZREM', P .. 'done', idg)
  redis.call('ZADD', P .. 'due:' .. lane, now, job)
  return 1
end
`

/** Opens records for new events (state 0) and answers duplicates. Returns per event `["dup", g]` or `["new", g]`. */
export const BEGIN = `${COMMON}
local items = cjson.decode(ARGV[1])
local now = tonumber(ARGV[2])
local window = tonumber(ARGV[3])
local out = {}
for k, it in ipairs(items) do
  local seen = redis.call('ZSCORE', P .. 'dd', it.id)
  local g = redis.call('HGET', P .. 'cur', it.id)
  local state = false
  if g then state = redis.call('HGET', recKey(it.id, g), 's') end
  if seen and tonumber(seen) > now - window and state ~= '0' then
    out[k] = {'dup', g or ''}
  elseif state == '0' then
    out[k] = {'new', g}
  else
    g = tostring(redis.call('INCR', P .. 'gen'))
    redis.call('HSET', P .. 'cur', it.id, g)
    local key = recKey(it.id, g)
    local n = #it.h
    redis.call('HSET', key, 's', '0', 'a', ARGV[2], 'rc', it.rc, 'e', it.e, 't', it.t, 'n', n, 'p', n, 'd', 0)
    if it.u then redis.call('HSET', key, 'u', it.u) end
    if it.an then redis.call('HSET', key, 'an', it.an) end
    for i = 1, n do
      redis.call('HSET', key, 'r:' .. (i - 1), cjson.encode({st = 'p', at = 0, j = it.h[i] .. '-' .. g, l = it.l[i]}))
    end
    out[k] = {'new', g}
  end
end
return out
`

/** Commits records whose jobs are in BullMQ: counted in the backlog, due, findable by user. Returns the backlog. */
export const COMMIT = `${COMMON}
local items = cjson.decode(ARGV[1])
local now = ARGV[2]
for _, it in ipairs(items) do
  local key = recKey(it.id, it.g)
  if redis.call('HGET', key, 's') == '0' and redis.call('HGET', P .. 'cur', it.id) == it.g then
    redis.call('HSET', key, 's', '1')
    redis.call('ZADD', P .. 'dd', now, it.id)
    local idg = it.id .. '|' .. it.g
    local f = redis.call('HMGET', key, 'p', 'd', 'rc', 'n', 'u', 'an')
    local pending = tonumber(f[1])
    if pending > 0 then
      redis.call('INCRBY', P .. 'backlog', pending)
      redis.call('ZADD', P .. 'pend', f[3], idg)
    elseif f[2] == '0' then
      redis.call('ZADD', P .. 'done', now, idg)
    end
    if f[5] then redis.call('SADD', P .. 'user:' .. f[5], idg) end
    if f[6] then redis.call('SADD', P .. 'anon:' .. f[6], idg) end
    for i = 0, tonumber(f[4]) - 1 do
      local r = cjson.decode(redis.call('HGET', key, 'r:' .. i))
      redis.call('SADD', P .. 'lanes', r.l)
      if r.st == 'p' and r.at == 0 then redis.call('ZADD', P .. 'due:' .. r.l, now, r.j) end
    end
    for _, target in ipairs(it.tk) do redis.call('SADD', P .. 'targets', target) end
  end
end
return redis.call('GET', P .. 'backlog') or '0'
`

/**
 * Marks claimed jobs in flight (one more attempt) and returns what the attempt needs: per claim `["ok", event JSON,
 * received at, targets JSON, attempt, state...]`, or `["stale"]` (the record is gone: purged, or never committed)
 * or `["final"]` (already delivered or dead-lettered: a stalled job handed out again).
 */
export const CLAIM = `${COMMON}
local items = cjson.decode(ARGV[1])
local now = tonumber(ARGV[2])
local out = {}
for k, c in ipairs(items) do
  local key = recKey(c.id, c.g)
  if c.lt then replayLetter(c.lt, now, c.j) end
  local raw = redis.call('HGET', key, 'r:' .. c.i)
  redis.call('ZREM', P .. 'due:' .. c.l, c.j)
  redis.call('ZREM', P .. 'retry:' .. c.l, retryMember(c.g, c.i, c.j))
  if not raw then
    out[k] = {'stale'}
  else
    local r = cjson.decode(raw)
    if r.st == 'd' or r.st == 'x' then
      out[k] = {'final'}
    elseif r.j ~= c.j then
      out[k] = {'stale'}
    else
      r.at = r.at + 1
      r.st = 'f'
      r.na = nil
      redis.call('HSET', key, 'r:' .. c.i, cjson.encode(r))
      local ev = redis.call('HMGET', key, 'e', 'rc', 't')
      local entry = {'ok', ev[1], ev[2], ev[3], tostring(r.at)}
      local state = redis.call('HGETALL', P .. 'st:' .. c.id .. '|' .. c.g .. '|' .. c.i)
      for _, v in ipairs(state) do table.insert(entry, v) end
      out[k] = entry
    end
  end
end
return out
`

/**
 * Writes attempts' outcomes. Per settlement returns `0` (nothing to write: purged, already final, or a job replaced
 * by a replay), `1`, or for a dead letter its id.
 */
export const SETTLE = `${COMMON}
local items = cjson.decode(ARGV[1])
local now = tonumber(ARGV[2])
local out = {}
for k, s in ipairs(items) do
  local key = recKey(s.id, s.g)
  local raw = redis.call('HGET', key, 'r:' .. s.i)
  local r = raw and cjson.decode(raw)
  if not r or r.st == 'd' or r.st == 'x' or r.j ~= s.j then
    out[k] = 0
  else
    local idg = s.id .. '|' .. s.g
    local stKey = P .. 'st:' .. idg .. '|' .. s.i
    local committed = redis.call('HGET', key, 's') == '1'
    r.hs = s.hs
    r.na = nil
    if s.o == 'retry' then
      r.st = 'p'
      r.na = s.at
      redis.call('ZADD', P .. 'due:' .. r.l, s.at, r.j)
      redis.call('ZADD', P .. 'retry:' .. r.l, s.at, retryMember(s.g, s.i, r.j))
      out[k] = 1
    else
      local pending = redis.call('HINCRBY', key, 'p', -1)
      if committed then redis.call('DECR', P .. 'backlog') end
      if pending <= 0 then redis.call('ZREM', P .. 'pend', idg) end
      if s.o == 'delivered' then
        r.st = 'd'
        redis.call('DEL', stKey)
        if pending <= 0 and redis.call('HGET', key, 'd') == '0' and committed then
          redis.call('ZADD', P .. 'done', now, idg)
        end
        out[k] = 1
      else
        local seq = redis.call('INCR', P .. 'dlseq')
        local lid = string.format('%012d', seq)
        addLetter(lid, now, {id = s.id, g = s.g, i = s.i, l = r.l, tin = s.tin, tg = s.tg, hs = s.hs, rs = s.rs,
          att = r.at, e = redis.call('HGET', key, 'e')})
        redis.call('HINCRBY', key, 'd', 1)
        r.st = 'x'
        r.dl = lid
        out[k] = lid
      end
    end
    redis.call('HSET', key, 'r:' .. s.i, cjson.encode(r))
    if s.dt then redis.call('HSET', key, 'd:' .. s.i, s.dt) else redis.call('HDEL', key, 'd:' .. s.i) end
    if s.st and s.o ~= 'delivered' then
      for _, w in ipairs(s.st) do redis.call('HSET', stKey, w.k, w.v) end
    end
  end
end
return out
`

/** Makes dead letters due again (their new job is in BullMQ already). Returns 1 per letter replayed, 0 if gone. */
export const REPLAY = `${COMMON}
local items = cjson.decode(ARGV[1])
local now = tonumber(ARGV[2])
local out = {}
for k, it in ipairs(items) do out[k] = replayLetter(it.lt, now, it.j) end
return out
`

/**
 * Forgets a user's records: their dead letters, per-delivery state, due entries and counts. Returns
 * `[events, deliveries, dead letters]`.
 */
export const PURGE = `${COMMON}
local items = cjson.decode(ARGV[1])
local events, deliveries, letters = 0, 0, 0
for _, idg in ipairs(items) do
  local sep = string.find(idg, '|', 1, true)
  local id, g = string.sub(idg, 1, sep - 1), string.sub(idg, sep + 1)
  local key = recKey(id, g)
  local f = redis.call('HMGET', key, 'n', 'p', 's')
  if f[1] then
    local n = tonumber(f[1])
    for i = 0, n - 1 do
      local r = cjson.decode(redis.call('HGET', key, 'r:' .. i))
      if r.dl and removeLetter(r.dl) then letters = letters + 1 end
      redis.call('ZREM', P .. 'due:' .. r.l, r.j)
      redis.call('ZREM', P .. 'retry:' .. r.l, retryMember(g, i, r.j))
    end
    if f[3] == '1' then redis.call('DECRBY', P .. 'backlog', tonumber(f[2])) end
    dropRecord(id, g)
    events = events + 1
    deliveries = deliveries + n
  end
end
return {events, deliveries, letters}
`

/**
 * Drops dead letters (retention) without replaying them; an event left with nothing pending and no letter goes too.
 * Returns `[letters, events]`.
 */
export const DROP_LETTERS = `${COMMON}
local items = cjson.decode(ARGV[1])
local letters, events = 0, 0
for _, lid in ipairs(items) do
  local f = removeLetter(lid)
  if f then
    letters = letters + 1
    local key = recKey(f[2], f[3])
    if redis.call('EXISTS', key) == 1 then
      local left = redis.call('HINCRBY', key, 'd', -1)
      if left <= 0 and tonumber(redis.call('HGET', key, 'p')) <= 0 then events = events + dropRecord(f[2], f[3]) end
    end
  end
end
return {letters, events}
`

/** Drops delivered records (retention). Returns how many went. */
export const DROP_RECORDS = `${COMMON}
local items = cjson.decode(ARGV[1])
local dropped = 0
for _, idg in ipairs(items) do
  local sep = string.find(idg, '|', 1, true)
  dropped = dropped + dropRecord(string.sub(idg, 1, sep - 1), string.sub(idg, sep + 1))
end
return dropped
`

/**
 * Adds dead letters recorded elsewhere (the former NDJSON file) as committed records with one dead-lettered target.
 * Returns how many were added (known ids are skipped).
 */
export const IMPORT = `${COMMON}
local items = cjson.decode(ARGV[1])
local added = 0
for _, it in ipairs(items) do
  if redis.call('EXISTS', P .. 'dl:' .. it.lid) == 0 then
    local g = tostring(redis.call('INCR', P .. 'gen'))
    local idg = it.id .. '|' .. g
    local key = recKey(it.id, g)
    redis.call('HSET', key, 's', '1', 'a', it.at, 'rc', it.rc, 'e', it.e, 't', it.t, 'n', 1, 'p', 0, 'd', 1,
      'r:0', cjson.encode({st = 'x', at = it.att, hs = it.hs, dl = it.lid, j = it.h .. '-' .. g, l = it.l}),
      'd:0', it.dt)
    if redis.call('HEXISTS', P .. 'cur', it.id) == 0 then redis.call('HSET', P .. 'cur', it.id, g) end
    if it.u then redis.call('HSET', key, 'u', it.u); redis.call('SADD', P .. 'user:' .. it.u, idg) end
    if it.an then redis.call('HSET', key, 'an', it.an); redis.call('SADD', P .. 'anon:' .. it.an, idg) end
    addLetter(it.lid, it.at, {id = it.id, g = g, i = 0, l = it.l, tin = it.tin, tg = it.tg, hs = it.hs, rs = it.rs,
      att = it.att, e = it.e})
    redis.call('SADD', P .. 'lanes', it.l)
    added = added + 1
  end
end
return added
`
