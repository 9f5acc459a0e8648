-- bench/records.lua: wrk script for bench/records.py. Every request is a visitor's choice, posted as
-- the banner's form would post it: "Accept all", "Reject all" and "Save choices" in turn.
-- done() prints "RECORDS requests=N p99_us=N p50_us=N" for records.py.

local bodies = {
  "choice=all&next=%2Fnews%2F",
  "choice=none&next=%2F",
  "choice=custom&category=analytics&service=youtube&next=%2Fvideo",
}
local counter = 0

function request()
  counter = counter + 1
  return wrk.format("POST", "/_gatekeeper/consent",
    { ["Content-Type"] = "application/x-www-form-urlencoded" }, bodies[(counter % #bodies) + 1])
end

function done(summary, latency, requests)
  io.write(string.format("RECORDS requests=%d p99_us=%d p50_us=%d non2xx3xx=%d\n", summary.requests,
    latency:percentile(99), latency:percentile(50), summary.errors.status))
end
