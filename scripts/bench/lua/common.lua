-- Shared by every workload (prepended to it): per-thread ids, options from the command line,
-- non-2xx accounting and one machine-readable result line for scripts/bench/wrk.ts.
-- Options arrive as `key=value` arguments after `--` on wrk's command line.

local threads = {}

function setup(thread)
  thread:set("tid", #threads)
  table.insert(threads, thread)
end

-- Thread globals (read from the main state with thread:get in done()).
tid = 0
counter = 0
non2xx = 0
fail_status = 0
fail_body = ""

opt = {}
headers = {}

function common_init(args)
  for _, a in ipairs(args) do
    local k, v = string.match(a, "^([%w_]+)=(.*)$")
    if k then opt[k] = v end
  end
  if opt.token then headers["Authorization"] = "Bearer " .. opt.token end
  headers["Accept"] = "application/scim+json"
  math.randomseed(1000003 * (tid + 1) + tonumber(opt.seed or "0"))
end

function read_lines(path)
  local lines = {}
  for line in io.lines(path) do
    if line ~= "" then lines[#lines + 1] = line end
  end
  return lines
end

function response(status, _, body)
  if status < 200 or status > 299 then
    non2xx = non2xx + 1
    if fail_status == 0 then
      fail_status = status
      fail_body = string.sub(body or "", 1, 400)
    end
  end
end

function done(summary, latency, _)
  local n, fs, fb, issued = 0, 0, "", 0
  for _, t in ipairs(threads) do
    n = n + t:get("non2xx")
    issued = issued + t:get("counter")
    if fs == 0 and t:get("fail_status") ~= 0 then
      fs = t:get("fail_status")
      fb = t:get("fail_body")
    end
  end
  local e = summary.errors
  io.write(string.format(
    'BENCH_RESULT {"requests":%d,"issued":%d,"durationUs":%d,"p50Us":%d,"p90Us":%d,"p99Us":%d,' ..
    '"maxUs":%d,"non2xx":%d,"connect":%d,"read":%d,"write":%d,"timeout":%d,"failStatus":%d}\n',
    summary.requests, issued, summary.duration, latency:percentile(50), latency:percentile(90),
    latency:percentile(99), latency.max, n, e.connect, e.read, e.write, e.timeout, fs))
  if fs ~= 0 then
    io.write("BENCH_FAIL_BODY " .. string.gsub(fb, "[\r\n]", " ") .. "\n")
  end
end
