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
local LIBRARY_VERSION = 7

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
KEYS[3]  (optional) the command id record  <ns>:{p}:command:<commandId>

ARGV[1]  library version the caller needs
ARGV[2]  expected version: 'any', or the number of events the order must have now
         (0 means the order must not exist yet)
ARGV[3]  order id (written on log entries)
ARGV[4]  how long to remember the command id, in milliseconds
ARGV[5]  number of events n, then five arguments per event:
         type, eventId, occurredAt, data, meta

Replies:
  {'appended', orderId, newVersion, position1, …}    the events were written
  {'duplicate', orderId, version, position1, …}      the command id was seen: nothing written,
                                                     the first append's result returned
  {'conflict', currentVersion}                       the expected version did not match: nothing written

The log is the bus: its entry names the event (orderId, version, type) and the order's stream
holds the event itself under the same entry id, so each event is stored once and has one
position, the same in both streams (entries written before library version 6 carry the whole
event too; readers take either). The log's next id is greater than every id already on the log, and every stream entry
came from the log, so the stream XADD with that id cannot fail.
]]
local function append(keys, args)
  local outdated = check_library(args[1])
  if outdated then return outdated end
  local stream, log, command = keys[1], keys[2], keys[3]
  local expected, order_id, command_ttl = args[2], args[3], tonumber(args[4])
  local count = tonumber(args[5])
  if count == nil or count < 1 or #args ~= 5 + count * 5 then
    return redis.error_reply('INVALID_APPEND expected ' .. tostring(args[5]) ..
      ' events but got ' .. (#args - 5) .. ' event arguments')
  end

  if command then
    local first = redis.call('GET', command)
    if first then
      local reply = cjson.decode(first)
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
  for i = 0, count - 1 do
    local base = 6 + i * 5
    local version = tostring(current + i + 1)
    local etype, event_id, occurred_at, data, meta =
      args[base], args[base + 1], args[base + 2], args[base + 3], args[base + 4]
    -- The log entry names the event; the event itself is in the order's stream, once.
    local position = redis.call('XADD', log, '*', 'orderId', order_id, 'version', version, 'type', etype)
    redis.call('XADD', stream, position,
      'type', etype, 'version', version, 'eventId', event_id,
      'occurredAt', occurred_at, 'data', data, 'meta', meta)
    table.insert(result, position)
  end

  if command then
    redis.call('SET', command, cjson.encode(result), 'PX', command_ttl)
  end
  table.insert(result, 1, 'appended')
  return result
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
redis.register_function{function_name = 'orders_lease', callback = lease}
redis.register_function{function_name = 'orders_replay_claim', callback = replay_claim}
