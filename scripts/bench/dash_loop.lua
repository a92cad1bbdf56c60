-- wrk script: GETs the dashboard's keyed queries in turn, as fast as the connections allow (the second client
-- of the bench's decoupling figure: ingest acknowledgement latency while the index is read without pause).
-- DASH_KEY=key DASH_PATHS="/api/analytics/usage?days=365 /api/analytics/daily?days=365" wrk -s dash_loop.lua ...
-- Requests are formatted once per thread at start, as in post_batches.lua; 4xx/5xx answers are counted by wrk
-- itself (summary.errors.status), so a wrong key shows as non2xx in the summary line.
local key = os.getenv("DASH_KEY") or ""
local paths = {}
for p in string.gmatch(os.getenv("DASH_PATHS") or "/api/analytics/usage?days=365", "%S+") do
  paths[#paths + 1] = p
end
local requests = {}
local i = 0
init = function(args)
  for k, p in ipairs(paths) do
    requests[k] = wrk.format("GET", p, {["X-Dash-Key"] = key})
  end
end
request = function()
  i = i % #requests + 1
  return requests[i]
end
done = function(summary, latency, requests)
  io.write(string.format("DASH requests=%d duration_us=%d p50_us=%d p99_us=%d errors=%d non2xx=%d\n",
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99),
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout,
    summary.errors.status))
end
