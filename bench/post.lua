-- wrk script: POST the JSON body template in $BENCH_BODY (bench/bodies.py), with a new
-- hookInstance on every request (as an EHR sends it: each call's cards get new uuids, so the
-- ledger really writes them) and a new administration: every "@N@" becomes a token unique to
-- this run, thread and request (the MedicationAdministration ids) and every "@F@" the
-- fractional seconds of effectiveDateTime, so no request repeats an administration of another
-- (a validation cache cannot answer for it). Prints one JSON line of results at the end.
local path = os.getenv("BENCH_BODY")
local run = os.getenv("BENCH_RUN") or tostring(os.time())
-- hookInstance must be a UUID (CDS Hooks 2.0): the run as a number in its first group
local run_number = tonumber(run) or os.time()
local file = assert(io.open(path, "rb"), "cannot open BENCH_BODY " .. tostring(path))
local body = file:read("*a")
file:close()
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"

local first, last = body:find('"hookInstance":"[^"]*"')
assert(first, "the body has no hookInstance")
body = body:sub(1, first - 1) .. '"hookInstance":"@H@"' .. body:sub(last + 1)

-- Split the template once into literal pieces and placeholders ("@H@", "@N@", "@F@"), so
-- that a request costs one table.concat (no pattern matching per request: the load
-- generator shares the CPUs with the server and must not slow the floor down).
local pieces, kinds = {}, {}
local position = 1
while true do
  local at, stop, kind = body:find("@([HNF])@", position)
  if not at then break end
  pieces[#pieces + 1] = body:sub(position, at - 1)
  kinds[#pieces] = kind
  position = stop + 1
end
pieces[#pieces + 1] = body:sub(position)
local slots = #pieces - 1

local counter = 0
local thread_id = 0
local next_thread = 0

function setup(thread)
  thread:set("thread_id", next_thread)
  next_thread = next_thread + 1
end

function request()
  counter = counter + 1
  local values = {
    H = string.format("%08x-%04x-4000-8000-%012x", run_number % 4294967296, thread_id, counter),
    N = string.format("%s-%d-%d", run, thread_id, counter),
    F = string.format("%06d", counter % 1000000),
  }
  local parts = {}
  for i = 1, slots do
    parts[2 * i - 1] = pieces[i]
    parts[2 * i] = values[kinds[i]]
  end
  parts[2 * slots + 1] = pieces[slots + 1]
  return wrk.format(nil, nil, nil, table.concat(parts))
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'BENCH_JSON {"requests": %d, "duration_us": %d, "bytes": %d, ' ..
    '"p50_us": %d, "p90_us": %d, "p95_us": %d, "p99_us": %d, "max_us": %d, "mean_us": %.1f, ' ..
    '"errors_connect": %d, "errors_read": %d, "errors_write": %d, ' ..
    '"errors_status": %d, "errors_timeout": %d}\n',
    summary.requests, summary.duration, summary.bytes,
    latency:percentile(50), latency:percentile(90), latency:percentile(95),
    latency:percentile(99), latency.max, latency.mean,
    e.connect, e.read, e.write, e.status, e.timeout))
end
