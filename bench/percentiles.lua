-- wrk's summary as one line: requests, p50 and p95 latency, and failures (non-2xx or
-- socket errors), for scripts/bench-reports.
done = function(summary, latency, requests)
  local errors = summary.errors
  local failed = errors.connect + errors.read + errors.write + errors.timeout + errors.status
  io.write(string.format("%d requests  p50 %.1f ms  p95 %.1f ms  failed %d\n",
    summary.requests, latency:percentile(50) / 1000, latency:percentile(95) / 1000, failed))
end
