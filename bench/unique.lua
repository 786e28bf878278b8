-- wrk script for the benchmarks of bench/wrk.py: every request is one line of a prepared file, so
-- each request is unique (its own scan, idempotency key, person, ticket or batch of scans).
--   wrk -t2 -c16 -d10s -s bench/unique.lua URL -- FILE THREADS
-- line: METHOD \t PATH \t BODY \t HEADER \t HEADER ...   (BODY may be empty; a header is "Name: value")
-- Thread k takes lines k, k + THREADS, ...; done() reports how far the furthest thread got, so the next
-- run can start after every line any thread has sent.
local threads, counter = {}, 0

function setup(thread)
  counter = counter + 1
  thread:set("id", counter)
  table.insert(threads, thread)
end

function init(args)
  local file, nthreads = args[1], tonumber(args[2])
  prepared, n, wrapped, ok, conflict, other = {}, 0, 0, 0, 0, 0
  local i = 0
  for line in io.lines(file) do
    if i % nthreads == id - 1 then
      local fields = {}
      for field in (line .. "\t"):gmatch("([^\t]*)\t") do fields[#fields + 1] = field end
      local method, path, body = fields[1], fields[2], fields[3]
      local headers = {}
      if body ~= "" then headers["Content-Type"] = "application/json" end
      for k = 4, #fields do
        local name, value = fields[k]:match("^([^:]+): (.*)$")
        if name then headers[name] = value end
      end
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

function response(status, headers, body)
  if status >= 200 and status < 300 then
    ok = ok + 1
  elseif status == 409 then
    conflict = conflict + 1
  else
    other = other + 1
  end
end

function done(summary, latency, requests)
  local wraps, furthest, oks, conflicts, others = 0, 0, 0, 0, 0
  for _, thread in ipairs(threads) do
    wraps = wraps + thread:get("wrapped")
    furthest = math.max(furthest, thread:get("n"))
    oks = oks + thread:get("ok")
    conflicts = conflicts + thread:get("conflict")
    others = others + thread:get("other")
  end
  io.write(string.format(
    'RESULT {"requests":%d,"duration_us":%d,"p50_us":%d,"p90_us":%d,"p99_us":%d,"max_us":%d,' ..
    '"non2xx":%d,"socket_errors":%d,"wrapped":%d,"furthest":%d,"ok":%d,"conflict":%d,"other":%d}\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(90), latency:percentile(99),
    latency.max, summary.errors.status,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout, wraps, furthest,
    oks, conflicts, others))
end
