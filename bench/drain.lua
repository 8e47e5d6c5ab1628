-- wrk script for drain.py: each thread sends its share of pre-signed kie callbacks once,
-- then stops itself (a request made past the end is a cheap GET /healthz).
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
  idx, accepted = 0, 0
  idle = wrk.format("GET", "/healthz")
  -- wrk asks for one request per thread before it connects and never sends it: let that be
  -- a harmless one, so every callback is sent
  table.insert(reqs, 1, idle)
end

function request()
  idx = idx + 1
  if idx > #reqs then return idle end
  return reqs[idx]
end

function response(status, headers, body)
  if status == 200 and body:find('"accepted"', 1, true) then
    accepted = accepted + 1
    if accepted == #reqs - 1 then
      -- wrk itself runs on until its -d ends: tell drain.py now (it stops wrk)
      io.stderr:write(string.format("ACKED %d\n", accepted))
      io.stderr:flush()
      wrk.thread:stop()
    end
  end
end

function done(summary, latency, requests)
  io.write(string.format('RESULT {"requests": %d, "duration_us": %d}\n',
    summary.requests, summary.duration))
end
