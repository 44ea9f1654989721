-- One wrk script for every Mimic benchmark; the request comes from the environment:
--   BENCH_METHOD (default GET), BENCH_PATH, BENCH_BODY, BENCH_CONTENT_TYPE, BENCH_AUTH
--   (a full Authorization header value), BENCH_VARY_TAG=1 (PATCH bodies that differ per request,
--   so every write really changes the row).
-- At the end it prints one line `BENCH_JSON {...}` that benches/run.sh parses.
local method = os.getenv("BENCH_METHOD") or "GET"
local path = os.getenv("BENCH_PATH") or "/"
local body = os.getenv("BENCH_BODY")
local ctype = os.getenv("BENCH_CONTENT_TYPE")
local auth = os.getenv("BENCH_AUTH")
local vary = os.getenv("BENCH_VARY_TAG") == "1"

wrk.method = method
wrk.path = path
if body and body ~= "" then wrk.body = body end
if ctype and ctype ~= "" then wrk.headers["Content-Type"] = ctype end
if auth and auth ~= "" then wrk.headers["Authorization"] = auth end

local counter = 0
local thread_tag = tostring(math.random(1, 1000000000))

if vary then
  request = function()
    counter = counter + 1
    local b = string.format('{"tags":{"bench":"%s-%d"}}', thread_tag, counter)
    return wrk.format(method, path, nil, b)
  end
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'BENCH_JSON {"requests":%d,"duration_us":%d,"bytes":%d,"non2xx":%d,"err_connect":%d,"err_read":%d,"err_write":%d,"err_timeout":%d,"p50_us":%d,"p90_us":%d,"p99_us":%d,"max_us":%d,"mean_us":%.1f}\n',
    summary.requests, summary.duration, summary.bytes, e.status, e.connect, e.read, e.write, e.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max, latency.mean))
end
