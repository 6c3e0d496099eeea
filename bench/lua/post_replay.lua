-- POST /v2/incidents replaying one fixed key with an equal payload: wrk ... URL -- TOKEN SEVERITY_ID KEY
function init(args)
  wrk.method = "POST"
  wrk.headers["Authorization"] = "Bearer " .. args[1]
  wrk.headers["Content-Type"] = "application/json"
  wrk.body = string.format(
    '{"idempotency_key":"%s","severity_id":"%s","visibility":"public","name":"bench replay"}',
    args[3], args[2])
end
