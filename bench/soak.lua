-- bench/soak.lua: wrk script for bench/soak.py. Each request takes the next (path, Cookie) pair, so every
-- page is asked for in every consent state, in turn, on every connection of the thread.
--
--   wrk ... -s bench/soak.lua URL -- "/|/news/|/access" "-" "gk_consent=..." ...
--
-- args[1]: the paths joined by "|"; args[2..]: one Cookie header per consent state, "-" for none.
-- A path ending in "=" gets a number that changes every time ("/news/?utm_source=" -> "...=1234"): a
-- URL the server has never seen, so nothing cached can answer it.
-- done() prints one line "SOAK key=value ..." for soak.py (latencies in microseconds) and the status
-- codes seen ("STATUS code=count ...").

local paths, cookies = {}, {}
local counter = 0
local threads = {}

function setup(thread)
  thread:set("offset", #threads * 1000003) -- threads start at different pairs and numbers
  table.insert(threads, thread)
end

function init(args)
  for p in string.gmatch(args[1], "[^|]+") do
    table.insert(paths, p)
  end
  for i = 2, #args do
    table.insert(cookies, args[i])
  end
  if #cookies == 0 then
    cookies = { "-" }
  end
  counter = offset or 0
  statuses = {}
end

function request()
  local path = paths[counter % #paths + 1]
  if string.sub(path, -1) == "=" then
    path = path .. counter
  end
  local cookie = cookies[math.floor(counter / #paths) % #cookies + 1]
  counter = counter + 1
  local headers = {}
  if cookie ~= "-" then
    headers["Cookie"] = cookie
  end
  return wrk.format("GET", path, headers)
end

function response(status, headers, body)
  statuses[status] = (statuses[status] or 0) + 1
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    "SOAK requests=%d duration_us=%d bytes=%d p50_us=%d p90_us=%d p99_us=%d max_us=%d "
      .. "connect=%d read=%d write=%d timeout=%d status=%d\n",
    summary.requests, summary.duration, summary.bytes,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max,
    e.connect, e.read, e.write, e.timeout, e.status
  ))
  local total = {}
  for _, thread in ipairs(threads) do
    local seen = thread:get("statuses")
    for code, n in pairs(seen or {}) do
      total[code] = (total[code] or 0) + n
    end
  end
  local parts = {}
  for code, n in pairs(total) do
    table.insert(parts, string.format("%d=%d", code, n))
  end
  table.sort(parts)
  io.write("STATUS " .. table.concat(parts, " ") .. "\n")
end
