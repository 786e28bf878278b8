-- wrk script for bench/stack.py: every request is a line of a prepared file (unique scan tokens and
-- idempotency keys, unique person × event sign-ups), split between wrk's threads.
--   wrk -t2 -c16 -d10s -s bench/stack.lua URL -- FILE THREADS
-- line: METHOD \t PATH \t HEADER-NAME: value \t BODY (body may be empty)
local threads, counter = {}, 0

function setup(thread)
  counter = counter + 1
  thread:set("id", counter)
  table.insert(threads, thread)
end

function init(args)
  local file, nthreads = args[1], tonumber(args[2])
  prepared, n, wrapped = {}, 0, 0
  local i = 0
  for line in io.lines(file) do
    if i % nthreads == id - 1 then
      local method, path, header, body = line:match("^(%S+)\t(%S+)\t([^\t]*)\t(.*)$")
      local headers = {}
      if body ~= "" then headers["Content-Type"] = "application/json" end
      local name, value = header:match("^([^:]+): (.*)$")
      if name then headers[name] = value end
      prepared[#prepared + 1] = wrk.format(method, path, headers, body ~= "" and body or nil)
    end
    i = i + 1
  end
end

function request()
  n = n + 1
  if n > #prepared then n, wrapped = 1, wrapped + 1 end
  return prepared[n]
end

function done(summary, latency, requests)
  local wraps = 0
  for _, thread in ipairs(threads) do wraps = wraps + thread:get("wrapped") end
  io.write(string.format(
    'RESULT {"requests":%d,"duration_us":%d,"p50_us":%d,"p90_us":%d,"p99_us":%d,"max_us":%d,' ..
    '"non2xx":%d,"socket_errors":%d,"wrapped":%d}\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(90), latency:percentile(99),
    latency.max, summary.errors.status,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout, wraps))
end
