-- wrk script: POSTs the bodies of a batches file (one JSON body per line) in turn.
-- BATCHES=path wrk -s post_batches.lua ...
-- Requests are formatted once per thread at start, so the load generator spends its share of the
-- two cores on sending rather than on Lua string building (no response callback either: wrk counts
-- non-2xx answers itself, in summary.errors.status).
local path = os.getenv("BATCHES") or "batches.ndjson"
local bodies = {}
for line in io.lines(path) do bodies[#bodies + 1] = line end
local requests = {}
local i = 0
-- USER_AGENT=... sends that User-Agent with every request (the dimensions bench: derivation parses it).
local agent = os.getenv("USER_AGENT")
init = function(args)
  local headers = {["Content-Type"] = "application/json"}
  if agent then headers["User-Agent"] = agent end
  for k, body in ipairs(bodies) do
    requests[k] = wrk.format("POST", "/api/analytics/event", headers, body)
  end
end
-- RATE_PER_CONNECTION (requests/s) paces each connection, for latency at a fixed load.
local rate = tonumber(os.getenv("RATE_PER_CONNECTION") or "")
if rate then
  delay = function() return 1000 / rate end
end
request = function()
  i = i % #requests + 1
  return requests[i]
end
done = function(summary, latency, requests)
  io.write(string.format("BENCH requests=%d duration_us=%d p50_us=%d p99_us=%d errors=%d non2xx=%d\n",
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99),
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout,
    summary.errors.status))
end
