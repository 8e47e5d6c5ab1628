-- wrk script: each thread replays its own share of pre-signed kie callbacks (see ingest.py).
local threads = {}
local counter = 0

function setup(thread)
  thread:set("tid", counter)
  counter = counter + 1
  table.insert(threads, thread)
end

function init(args)
  local file, nthreads, template = args[1], tonumber(args[2]), args[3]
  reqs = {}
  local i = 0
  for line in io.lines(file) do
    if i % nthreads == tid then
      local task, ts, sig = line:match("([^ ]+) ([^ ]+) ([^ ]+)")
      local body = string.format(template, task)
      local headers = {["Content-Type"] = "application/json",
                       ["X-Webhook-Timestamp"] = ts, ["X-Webhook-Signature"] = sig}
      table.insert(reqs, wrk.format("POST", "/callbacks/kie", headers, body))
    end
    i = i + 1
  end
  idx = 0
end

function request()
  idx = idx + 1
  if idx > #reqs then idx = 1 end
  return reqs[idx]
end

function done(summary, latency, requests)
  local non2xx = summary.errors.status
  io.write(string.format(
    'RESULT {"requests": %d, "duration_us": %d, "non2xx": %d, "socket_errors": %d, ' ..
    '"p50_us": %d, "p99_us": %d}\n',
    summary.requests, summary.duration, non2xx,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout,
    latency:percentile(50), latency:percentile(99)))
end
