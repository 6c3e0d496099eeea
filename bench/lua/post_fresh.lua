-- POST /v2/incidents with a fresh idempotency key per request.
--   wrk ... URL -- TOKEN SEVERITY_ID SEED [LIMIT]
-- Keys are "bench-<seed>-<thread>-<counter>", so runs and threads never collide. With LIMIT, each
-- thread stops after LIMIT answers (used to seed a store; a few in-flight requests may overshoot).
local counter = 0
local answered = 0
local limit = nil
local prefix = ""
local thread_ids = 0

function setup(thread)
  thread_ids = thread_ids + 1
  thread:set("thread_id", thread_ids)
end

function init(args)
  wrk.method = "POST"
  wrk.headers["Authorization"] = "Bearer " .. args[1]
  wrk.headers["Content-Type"] = "application/json"
  severity_id = args[2]
  prefix = "bench-" .. args[3] .. "-" .. tostring(thread_id or 0) .. "-"
  limit = tonumber(args[4])
end

function request()
  counter = counter + 1
  local body = string.format(
    '{"idempotency_key":"%s%d","severity_id":"%s","visibility":"public","name":"bench %d"}',
    prefix, counter, severity_id, counter)
  return wrk.format(nil, nil, nil, body)
end

function response(status, headers, body)
  answered = answered + 1
  if limit and answered >= limit then
    wrk.thread:stop()
  end
end
