-- POST an alert event: wrk ... URL?token=TOKEN -- TOKEN KEY [SEED]
-- The source's token travels in the query (it decides, for the mock) and as a Bearer header (the only
-- place Prism looks for an http bearer scheme). With SEED, each event's deduplication_key is
-- "<KEY>-<SEED>-<thread>-<counter>": a new alert each time; without it, every event names KEY, so after
-- the first one each event updates the same firing alert (the deduplication path).
local counter = 0
local thread_ids = 0
local prefix = ""
local fresh = false

function setup(thread)
  thread_ids = thread_ids + 1
  thread:set("thread_id", thread_ids)
end

function init(args)
  wrk.method = "POST"
  wrk.headers["Authorization"] = "Bearer " .. args[1]
  wrk.headers["Content-Type"] = "application/json"
  prefix = args[2]
  fresh = args[3] ~= nil
  if fresh then
    prefix = prefix .. "-" .. args[3] .. "-" .. tostring(thread_id or 0) .. "-"
  end
end

local body = '{"deduplication_key":"%s","status":"firing","title":"Disk 95%% full on db-1",' ..
  '"description":"The data volume of db-1 passed 95%% of its size.",' ..
  '"source_url":"https://monitoring.example.com/alerts/disk-full-db-1",' ..
  '"metadata":{"service":"postgres","team":"platform"}}'

function request()
  local key = prefix
  if fresh then
    counter = counter + 1
    key = prefix .. counter
  end
  return wrk.format(nil, nil, nil, string.format(body, key))
end
