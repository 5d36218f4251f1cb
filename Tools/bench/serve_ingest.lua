-- wrk script for sledger serve: each request POSTs BATCH new login events (unique ids and
-- sessions), so every event is stored, none a duplicate. BATCH comes from the environment.
--   BATCH=100 wrk -t2 -c64 -d15s --latency -s Tools/bench/serve_ingest.lua http://127.0.0.1:8787
local batch = tonumber(os.getenv("BATCH") or "100")
local threads = 0
local run = os.getenv("RUN") or tostring(os.time())

function setup(thread)
  threads = threads + 1
  thread:set("tid", threads)
end

local counter = 0
local base = 1775462400  -- 2026-04-06T08:00:00Z
local started = os.time()

-- `at` follows the wall clock from 2026-04-06T08:00:00Z (microseconds from the counter), so
-- events arrive roughly in time order, as a sign-in service sends them.
function request()
  counter = counter + 1
  local lines = {}
  local second = os.date("!%Y-%m-%dT%H:%M:%S", base + os.time() - started)
  for i = 1, batch do
    local n = counter * batch + i
    local at = string.format("%s.%06dZ", second, n % 1000000)
    lines[i] = string.format(
      '{"type":"login","at":"%s","user":"u%d-%d","session":"s-%s-%d-%d","client":"web","method":"google","id":"e-%s-%d-%d"}',
      at, tid, n % 1000, run, tid, n, run, tid, n)
  end
  return wrk.format("POST", "/v1/events", {["Content-Type"] = "application/x-ndjson"}, table.concat(lines, "\n") .. "\n")
end

local failures = 0
function response(status, headers, body)
  if status ~= 200 then
    failures = failures + 1
    if failures <= 3 then io.stderr:write("status " .. status .. ": " .. body .. "\n") end
  end
end
