#!lua name=orders
--[[
The Orders service's Redis Function library, loaded by the service at start-up with
FUNCTION LOAD REPLACE. Everything that must be atomic lives here: one FCALL is one
all-or-nothing step, since Redis runs a function to its end without interleaving other clients.

Redis does not roll back a function's earlier writes when a later call in it fails, so each
function checks everything that can fail before its first write.

Look at what is loaded with:  redis-cli FUNCTION LIST LIBRARYNAME orders
]]

-- Bump on any change to a function's keys, arguments or replies. A service refuses to run against
-- a library older than the one it was built with (see orders_version and check_library).
local LIBRARY_VERSION = 9

local function check_library(required)
  local wanted = tonumber(required)
  if wanted == nil or wanted > LIBRARY_VERSION then
    return redis.error_reply('LIBRARY_OUTDATED orders library v' .. LIBRARY_VERSION ..
      ' is loaded but the caller needs v' .. tostring(required))
  end
  return nil
end

--[[
orders_append: append a batch of events to one order's stream and to the global log.

KEYS[1]  the order's stream       <ns>:{p}:stream:<orderId>
KEYS[2]  the global log           <ns>:{p}:log
KEYS[3]  (with a command id) its bucket of command ids   <ns>:{p}:commands:<bucket>
KEYS[4]  (with a command id) where library versions before 8 kept it   <ns>:{p}:command:<commandId>

ARGV[1]  library version the caller needs
ARGV[2]  expected version: 'any', or the number of events the order must have now
         (0 means the order must not exist yet)
ARGV[3]  order id (written on log entries)
ARGV[4]  how long to remember the command id, in milliseconds
ARGV[5]  the command id ('' without one)
ARGV[6]  number of events n, then five arguments per event:
         type, eventId, occurredAt, data, meta

Replies:
  {'appended', orderId, newVersion, position1, …}    the events were written
  {'duplicate', orderId, version, position1, …}      the command id was seen: no event written
                                                     (its record is rewritten as it is, for WAIT),
                                                     the first append's result returned
  {'conflict', currentVersion}                       the expected version did not match: nothing written

A command id's first result is a field of its bucket (one of 4,096 small hashes, chosen by a
hash of the id), `<commandId>` → `<expiresAtMs>|<orderId>|<version>|<position>,<position>…`:
a few dozen bytes in a listpack instead of a key with an expiry. A result past its expiry is
as good as absent; `orders_commands_sweep` deletes those.

The log is the bus: its entry names the event (orderId, version, type) and the order's stream
holds the event itself under the same entry id, so each event is stored once and has one
position, the same in both streams (entries written before library version 6 carry the whole
event too; readers take either). The log's next id is greater than every id already on the log, and every stream entry
came from the log, so the stream XADD with that id cannot fail.
]]
local function now_ms()
  local time = redis.call('TIME')
  return tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
end

-- A bucket's value: the first result, or nil once it has expired.
local function recorded_result(value, now)
  local expires, order_id, version, positions = string.match(value, '^(%d+)|([^|]*)|(%d+)|(.*)$')
  if not expires or tonumber(expires) <= now then return nil end
  local reply = {order_id, tonumber(version)}
  for position in string.gmatch(positions, '[^,]+') do table.insert(reply, position) end
  return reply
end

local function append(keys, args)
  local outdated = check_library(args[1])
  if outdated then return outdated end
  local stream, log, bucket, legacy = keys[1], keys[2], keys[3], keys[4]
  local expected, order_id, command_ttl, command_id = args[2], args[3], tonumber(args[4]), args[5]
  local count = tonumber(args[6])
  if count == nil or count < 1 or #args ~= 6 + count * 5 then
    return redis.error_reply('INVALID_APPEND expected ' .. tostring(args[6]) ..
      ' events but got ' .. (#args - 6) .. ' event arguments')
  end
  if (bucket == nil) ~= (command_id == '') or (bucket ~= nil and legacy == nil) then
    return redis.error_reply('INVALID_APPEND a command id needs its bucket and legacy keys, and only then')
  end

  local now
  if bucket then
    now = now_ms()
    local first = redis.call('HGET', bucket, command_id)
    local reply = first and recorded_result(first, now)
    if reply then
      -- Rewritten as it is: a write, so that the caller's WAIT behind this call (durability
      -- `replicated`) waits for the replicas to have everything up to here, the first append too.
      redis.call('HSET', bucket, command_id, first)
    else
      local old = redis.call('GET', legacy)
      reply = old and cjson.decode(old)
      if reply then redis.call('SET', legacy, old, 'KEEPTTL') end
    end
    if reply then
      table.insert(reply, 1, 'duplicate')
      return reply
    end
  end

  local current = redis.call('XLEN', stream)
  if expected ~= 'any' then
    local wanted = tonumber(expected)
    if wanted == nil then
      return redis.error_reply('INVALID_APPEND unknown expected version ' .. expected)
    end
    if wanted ~= current then
      return {'conflict', current}
    end
  end

  local result = {order_id, current + count}
  local positions = {}
  for i = 0, count - 1 do
    local base = 7 + i * 5
    local version = tostring(current + i + 1)
    local etype, event_id, occurred_at, data, meta =
      args[base], args[base + 1], args[base + 2], args[base + 3], args[base + 4]
    -- The log entry names the event; the event itself is in the order's stream, once.
    local position = redis.call('XADD', log, '*', 'orderId', order_id, 'version', version, 'type', etype)
    redis.call('XADD', stream, position,
      'type', etype, 'version', version, 'eventId', event_id,
      'occurredAt', occurred_at, 'data', data, 'meta', meta)
    table.insert(result, position)
    table.insert(positions, position)
  end

  if bucket then
    redis.call('HSET', bucket, command_id, (now + command_ttl) .. '|' .. order_id .. '|' .. (current + count) ..
      '|' .. table.concat(positions, ','))
  end
  table.insert(result, 1, 'appended')
  return result
end

--[[
orders_commands_sweep: delete the expired results of one bucket of command ids.

KEYS[1]  <ns>:{p}:commands:<bucket>
ARGV[1]  library version the caller needs
Reply    how many results were deleted
]]
local function commands_sweep(keys, args)
  local outdated = check_library(args[1])
  if outdated then return outdated end
  local now = now_ms()
  local fields = redis.call('HGETALL', keys[1])
  local expired = {}
  for i = 1, #fields, 2 do
    local expires = tonumber(string.match(fields[i + 1], '^(%d+)|'))
    if expires == nil or expires <= now then table.insert(expired, fields[i]) end
  end
  if #expired > 0 then redis.call('HDEL', keys[1], unpack(expired)) end
  return #expired
end

--[[
orders_snapshot_save: store an aggregate snapshot unless a newer one of the same schema is there.

KEYS[1]  <ns>:{p}:snapshot:<orderId>   (hash: version, schema, position, state, takenAt)
ARGV     library version, version, schema, position, state, takenAt
Reply    1 when stored, 0 when a snapshot at the same or a later version and the same schema exists.
]]
local function snapshot_save(keys, args)
  local outdated = check_library(args[1])
  if outdated then return outdated end
  local existing = redis.call('HMGET', keys[1], 'version', 'schema')
  local version, schema = tonumber(args[2]), args[3]
  if existing[1] and existing[2] == schema and tonumber(existing[1]) >= version then
    return 0
  end
  redis.call('HSET', keys[1], 'version', args[2], 'schema', schema, 'position', args[4],
    'state', args[5], 'takenAt', args[6])
  return 1
end

--[[
orders_lease: acquire, renew or release a projector's lease on one projection generation. One
projector at a time applies a generation's batches (the others stand by); the lease's value is
its fencing token, and every batch commit is fenced by it (WATCH on the lease key, see
Projector). Plain SET NX cannot renew only one's own lease, hence this function.

KEYS[1]  the lease       <ns>:{p}:view:<projection>:g<n>:lease   (string: the holder's token)
ARGV[1]  library version the caller needs
ARGV[2]  'hold' (acquire or renew) or 'release'
ARGV[3]  the caller's token (consumer name and a random part, new for each acquisition)
ARGV[4]  time to live in milliseconds ('hold')

Replies  {'held', ttl}              the caller holds the lease for ttl ms
         {'taken', holder, ttl}     another holds it; nothing written
         {'released'}               the caller's lease is gone (or was not the caller's)
]]
local function lease(keys, args)
  local outdated = check_library(args[1])
  if outdated then return outdated end
  local holder = redis.call('GET', keys[1])
  if args[2] == 'release' then
    if holder == args[3] then redis.call('DEL', keys[1]) end
    return {'released'}
  end
  local ttl = tonumber(args[4])
  if ttl == nil or ttl < 1 then return redis.error_reply('INVALID_LEASE bad time to live') end
  if holder and holder ~= args[3] then
    return {'taken', holder, redis.call('PTTL', keys[1])}
  end
  redis.call('SET', keys[1], args[3], 'PX', ttl)
  return {'held', ttl}
end

--[[
orders_replay_claim: claim the store's one replay slot, atomically, so two replays started at
the same moment (two operators, two instances with --auto-rebuild) cannot both run.

KEYS[1]  the replay status hash   <ns>:{p}:view:replay
ARGV[1]  library version the caller needs
ARGV[2]  the oldest heartbeat of a replay still taken to be alive (ISO-8601 UTC, fixed width,
         so it compares as text)
ARGV[3…] the new replay's status: field, value, field, value…

Replies  {'running', id, phase}           a live replay holds the slot; nothing written
         {'claimed', field, value, …}     the slot is ours; the previous status (none when the
                                          slot was empty), which may name work an abandoned
                                          replay left undone
]]
local function replay_claim(keys, args)
  local outdated = check_library(args[1])
  if outdated then return outdated end
  local previous = redis.call('HGETALL', keys[1])
  local fields = {}
  for i = 1, #previous, 2 do fields[previous[i]] = previous[i + 1] end
  local phase = fields['phase']
  local finished = phase == nil or phase == 'done' or phase == 'cancelled' or phase == 'failed'
  if not finished and (fields['heartbeat'] or '') >= args[2] then
    return {'running', fields['id'] or '', phase}
  end
  redis.call('DEL', keys[1])
  redis.call('HSET', keys[1], unpack(args, 3))
  local reply = {'claimed'}
  for _, value in ipairs(previous) do table.insert(reply, value) end
  return reply
end

redis.register_function{function_name = 'orders_version',
  callback = function() return LIBRARY_VERSION end, flags = {'no-writes'}}
redis.register_function{function_name = 'orders_append', callback = append}
redis.register_function{function_name = 'orders_snapshot_save', callback = snapshot_save}
redis.register_function{function_name = 'orders_commands_sweep', callback = commands_sweep}
redis.register_function{function_name = 'orders_lease', callback = lease}
redis.register_function{function_name = 'orders_replay_claim', callback = replay_claim}
