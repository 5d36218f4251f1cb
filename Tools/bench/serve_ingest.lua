-- wrk script for sledger serve: each request POSTs BATCH new events with unique ids, so
-- every event is stored, none a duplicate. Each session gets 50 events: a login, then 49
-- refreshes (sessions and users are reused, as in a real log, so derived state stays far
-- smaller than the log). BATCH comes from the environment.
--   BATCH=100 wrk -t2 -c64 -d15s --latency -s Tools/bench/serve_ingest.lua http://127.0.0.1:8787
local batch = tonumber(os.getenv("BATCH") or "100")
local threads = 0
local run = os.getenv("RUN") or tostring(os.time())

function setup(thread)
  threads = threads + 1
  thread:set("tid", threads)
end

local counter = 0
local ffi = require("ffi")
ffi.cdef("struct timespec { long tv_sec; long tv_nsec; }; int clock_gettime(int, struct timespec *);")
local now = ffi.new("struct timespec")

-- `at` is the wall clock (microseconds), so events arrive in time order, run after run, as a
-- sign-in service sends them (late events would make checkpoints stale). SHIFT (seconds, from
-- the environment) moves it on, for a ledger whose log already runs past today. SPEED makes
-- time pass that many times faster from START (epoch seconds, the same for every thread), so
-- that a run of a minute covers hours of the time line (rolling tail checkpoints lie an hour
-- before the newest event); requests of the two threads then interleave up to SPEED times a
-- scheduling delay out of order, as slightly late events.
local shift = tonumber(os.getenv("SHIFT") or "0")
local speed = tonumber(os.getenv("SPEED") or "1")
local start = tonumber(os.getenv("START") or "0")
function request()
  counter = counter + 1
  local lines = {}
  ffi.C.clock_gettime(0, now)
  local t = tonumber(now.tv_sec) + tonumber(now.tv_nsec) / 1e9
  if speed ~= 1 then t = start + (t - start) * speed end
  local whole = math.floor(t)
  local second = os.date("!%Y-%m-%dT%H:%M:%S", whole + shift)
  local micro = math.floor((t - whole) * 1e6)
  for i = 1, batch do
    local n = counter * batch + i
    local at = string.format("%s.%06dZ", second, micro)
    local session = math.floor(n / 50)
    local user = session % 1000
    if n % 50 == 0 then
      lines[i] = string.format(
        '{"type":"login","at":"%s","user":"u%d-%d","session":"s-%s-%d-%d","client":"web","method":"google","id":"e-%s-%d-%d"}',
        at, tid, user, run, tid, session, run, tid, n)
    else
      lines[i] = string.format(
        '{"type":"refresh","at":"%s","user":"u%d-%d","session":"s-%s-%d-%d","id":"e-%s-%d-%d"}',
        at, tid, user, run, tid, session, run, tid, n)
    end
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
