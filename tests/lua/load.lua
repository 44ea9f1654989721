-- wrk script of tests/test_load.py. Environment: LOAD_METHOD (GET or PUT), LOAD_PATH (for GET:
-- the path; for PUT: a collection path, each request creating `{path}/{thread}-{n}` so every
-- acknowledged write is a distinct resource that must be readable afterwards), LOAD_QUERY,
-- LOAD_AUTH (Authorization value). Prints one `LOAD_JSON {...}` line.
local method = os.getenv("LOAD_METHOD") or "GET"
local path = os.getenv("LOAD_PATH") or "/"
local query = os.getenv("LOAD_QUERY") or ""
wrk.headers["Authorization"] = os.getenv("LOAD_AUTH")
wrk.headers["Content-Type"] = "application/json"

local threads = {}
local counter = 0
local tag = ""

function setup(thread)
  thread:set("tag", "t" .. tostring(#threads + 1))
  table.insert(threads, thread)
end

function init(args)
  tag = wrk.thread:get("tag") or "t"
  ok2xx = 0
  started = 0
end

function request()
  started = started + 1
  if method == "PUT" then
    counter = counter + 1
    return wrk.format("PUT", string.format("%s/%s-%d?%s", path, tag, counter, query), nil,
      string.format('{"location":"westus","tags":{"n":"%d"}}', counter))
  end
  return wrk.format("GET", path .. "?" .. query)
end

function response(status, headers, body)
  if status >= 200 and status < 300 then ok2xx = ok2xx + 1 end
end

function done(summary, latency, requests)
  local ok, sent = 0, 0
  for _, t in ipairs(threads) do
    ok = ok + (t:get("ok2xx") or 0)
    sent = sent + (t:get("started") or 0)
  end
  local e = summary.errors
  io.write(string.format(
    'LOAD_JSON {"requests":%d,"duration_us":%d,"ok2xx":%d,"started":%d,"non2xx":%d,"err_connect":%d,"err_read":%d,"err_write":%d,"err_timeout":%d,"p50_us":%d,"p99_us":%d,"max_us":%d}\n',
    summary.requests, summary.duration, ok, sent, e.status, e.connect, e.read, e.write, e.timeout,
    latency:percentile(50), latency:percentile(99), latency.max))
end
