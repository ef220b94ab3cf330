-- wrk script for scripts/bench-dni: each thread alternates between leasing a number for
-- a new visitor and releasing a lease it got earlier, so the pool never runs dry and
-- every lease is a real allocation (no returning-visitor shortcut).
local key = os.getenv("BIDLINE_DNI_KEY")
local headers = { ["Origin"] = "https://www.bench.example", ["Content-Type"] = "text/plain" }
local held = {}
local body = '{"campaign":"' .. key .. '","url":"https://www.bench.example/?utm_source=google&gclid=G-1",'
  .. '"referrer":"https://www.google.com/","params":{"utm_source":"google","gclid":"G-1"}}'

request = function()
  local id = table.remove(held)
  if id then
    return wrk.format("POST", "/dni/v1/lease/" .. id .. "/release", headers, "")
  end
  return wrk.format("POST", "/dni/v1/lease", headers, body)
end

response = function(status, _, answer)
  local id = answer:match('"lease_id":"([^"]+)"')
  if id then table.insert(held, id) end
end

done = function(summary, latency, _)
  local seconds = summary.duration / 1e6
  io.write(string.format(
    "requests %d in %.1f s (%.0f/s, half of them leases), errors %d, latency p50 %.2f ms p99 %.2f ms max %.2f ms\n",
    summary.requests, seconds, summary.requests / seconds,
    summary.errors.status + summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout,
    latency:percentile(50) / 1000, latency:percentile(99) / 1000, latency.max / 1000))
end
