-- One wrk script for every benchmark; the request comes from the environment:
--   BENCH_METHOD (default GET), BENCH_PATH, BENCH_BODY, BENCH_CONTENT_TYPE, BENCH_AUTH
--   (a full Authorization header value), BENCH_HEADERS (more headers, one "Name: value" a line:
--   a SigV4-signed request's X-Amz-Date, for instance),
--   BENCH_BODIES_FILE (a file of bodies, one a line, sent in turn instead of BENCH_BODY: a
--   write that alternates between two states, so every request really changes something).
--   A "{n}" in a body is replaced by a value unique to each request (a tag value that differs
--   on every write).
-- At the end it prints one line `BENCH_JSON {...}` that the drivers parse.
local method = os.getenv("BENCH_METHOD") or "GET"
local path = os.getenv("BENCH_PATH") or "/"
local body = os.getenv("BENCH_BODY")
local ctype = os.getenv("BENCH_CONTENT_TYPE")
local auth = os.getenv("BENCH_AUTH")
local extra = os.getenv("BENCH_HEADERS")
local bodies_file = os.getenv("BENCH_BODIES_FILE")

wrk.method = method
wrk.path = path
if body and body ~= "" then wrk.body = body end
if ctype and ctype ~= "" then wrk.headers["Content-Type"] = ctype end
if auth and auth ~= "" then wrk.headers["Authorization"] = auth end
if extra and extra ~= "" then
  for line in extra:gmatch("[^\n]+") do
    local name, value = line:match("^([^:]+):%s*(.*)$")
    if name then wrk.headers[name] = value end
  end
end

local bodies = {}
if bodies_file and bodies_file ~= "" then
  for line in io.lines(bodies_file) do
    if line ~= "" then bodies[#bodies + 1] = line end
  end
elseif body and body ~= "" then
  bodies[1] = body
end

local counter = 0
local vary = false
for _, b in ipairs(bodies) do
  if b:find("{n}", 1, true) then vary = true end
end
local thread_tag = tostring(math.random(1, 1000000000))

if #bodies > 1 or vary then
  request = function()
    counter = counter + 1
    local b = bodies[(counter - 1) % #bodies + 1]
    if vary then b = b:gsub("{n}", thread_tag .. "-" .. counter) end
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
