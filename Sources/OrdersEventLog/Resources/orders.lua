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
local LIBRARY_VERSION = 6

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
orders_project: apply a projector's changes for one order, if the read model still holds the
version the projector read. This is what makes projecting idempotent and safe with several
consumers: a redelivered or older event finds a newer version and changes nothing; two consumers
racing on one order cannot both write (the loser re-reads and tries again).

KEYS     every key the changes touch; KEYS[1] holds the guard (a hash)
ARGV[1]  library version the caller needs
ARGV[2]  the guard's field in KEYS[1]; its value starts with the version the model reflects
ARGV[3]  the version the projector read (0: none)
ARGV[4]  the guard's new value (starting with the new version)
ARGV[5]  number of changes, then per change: command, key index, argument count, arguments…
         commands: HSET HDEL DEL ZADD ZREM ZINCRBY HINCRBY ZREMRANGEBYSCORE SADD SREM RANK DROPWORD
         (a field that HINCRBY brings to 0 is deleted)
         RANK <sum hash key index> <member> <delta>, on a sorted set: adds delta to the member's
         exact sum in the hash (HINCRBY, 64-bit integers) and sets the member's score to that sum
         (ZADD), so the score is the exact sum rounded once, the same however the sum was reached;
         a sum back at 0 leaves both. Rankings stay in sorted sets; exact figures come from the hash.
         DROPWORD <word list key index> <word>, on a search word's set: once the set is empty
         (gone), the word leaves the word list (a sorted set), so the list names only words some
         order has.

Replies  {'applied', newVersion} or {'stale', currentVersion} (nothing written)
]]
local PROJECTION_COMMANDS = {HSET = true, HDEL = true, DEL = true, ZADD = true, ZREM = true,
  ZINCRBY = true, HINCRBY = true, ZREMRANGEBYSCORE = true, SADD = true, SREM = true, RANK = true, DROPWORD = true}

local function project(keys, args)
  local outdated = check_library(args[1])
  if outdated then return outdated end
  local stored = redis.call('HGET', keys[1], args[2])
  local current = stored and tonumber(string.match(stored, '^%d+')) or 0
  if current ~= tonumber(args[3]) then
    return {'stale', current}
  end
  -- Read every change first, so a malformed one is refused before anything is written.
  local changes, index = {}, 6
  for _ = 1, tonumber(args[5]) do
    local command, key, count = args[index], keys[tonumber(args[index + 1])], tonumber(args[index + 2])
    if not PROJECTION_COMMANDS[command] or key == nil or count == nil then
      return redis.error_reply('INVALID_PROJECTION bad change at argument ' .. index)
    end
    local arguments = {}
    for j = 1, count do arguments[j] = args[index + 2 + j] end
    if command == 'RANK' and (count ~= 3 or keys[tonumber(arguments[1])] == nil or tonumber(arguments[3]) == nil) then
      return redis.error_reply('INVALID_PROJECTION bad RANK at argument ' .. index)
    end
    if command == 'DROPWORD' and (count ~= 2 or keys[tonumber(arguments[1])] == nil) then
      return redis.error_reply('INVALID_PROJECTION bad DROPWORD at argument ' .. index)
    end
    table.insert(changes, {command, key, arguments})
    index = index + 3 + count
  end
  for _, change in ipairs(changes) do
    local command, key, arguments = change[1], change[2], change[3]
    if command == 'DROPWORD' then
      if redis.call('EXISTS', key) == 0 then
        redis.call('ZREM', keys[tonumber(arguments[1])], arguments[2])
      end
    elseif command == 'RANK' then
      local sums, member = keys[tonumber(arguments[1])], arguments[2]
      local sum = redis.call('HINCRBY', sums, member, arguments[3])
      if sum == 0 then
        redis.call('HDEL', sums, member)
        redis.call('ZREM', key, member)
      else
        redis.call('ZADD', key, sum, member)
      end
    else
      local result = redis.call(command, key, unpack(arguments))
      -- A counter back at zero is removed, so the model's form does not depend on the path that
      -- led to it (an order created then deleted leaves no trace, applied one event at a time or
      -- folded at once): a rebuild equals the live model key for key.
      if command == 'HINCRBY' and result == 0 then
        redis.call('HDEL', key, arguments[1])
      end
    end
  end
  redis.call('HSET', keys[1], args[2], args[4])
  return {'applied', tonumber(string.match(args[4], '^%d+'))}
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

--[[
orders_dead_letter: move one log entry a projector gave up on to the dead-letter stream, count
it and acknowledge it, all or nothing, and only if the entry is still pending in the group (two
instances that both decided to give up on it write one letter).

KEYS[1]  the global log          KEYS[2]  the dead-letter stream     KEYS[3]  the counts hash
ARGV     library version, consumer group, log entry id, projection, attempts, error, at
Reply    1 when dead-lettered, 0 when the entry was no longer pending (nothing written)
]]
local function dead_letter(keys, args)
  local outdated = check_library(args[1])
  if outdated then return outdated end
  local group, id, projection = args[2], args[3], args[4]
  local pending = redis.call('XPENDING', keys[1], group, id, id, 1)
  if #pending == 0 then return 0 end
  redis.call('XADD', keys[2], '*', 'projection', projection, 'logId', id, 'attempts', args[5],
    'error', args[6], 'at', args[7])
  redis.call('HINCRBY', keys[3], projection, 1)
  redis.call('XACK', keys[1], group, id)
  return 1
end

redis.register_function{function_name = 'orders_version',
  callback = function() return LIBRARY_VERSION end, flags = {'no-writes'}}
redis.register_function{function_name = 'orders_append', callback = append}
redis.register_function{function_name = 'orders_snapshot_save', callback = snapshot_save}
redis.register_function{function_name = 'orders_project', callback = project}
redis.register_function{function_name = 'orders_replay_claim', callback = replay_claim}
redis.register_function{function_name = 'orders_dead_letter', callback = dead_letter}
