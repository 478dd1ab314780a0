-- wrk script: POSTs the JSON-RPC body in $RPC_BODY over keep-alive connections and counts
-- answers that are not a JSON-RPC result (HTTP errors or error objects).
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = os.getenv("RPC_BODY")

local threads = {}

function setup(thread)
  table.insert(threads, thread)
end

function init(args)
  bad = 0
end

-- Checking answers costs the load generator a Lua call per response: RPC_CHECK=0 leaves it out
-- (wrk then skips reading bodies into Lua) when wrk itself would be the bottleneck.
if os.getenv("RPC_CHECK") ~= "0" then
  function response(status, headers, body)
    if status ~= 200 or not string.find(body, '"result"', 1, true) then
      bad = bad + 1
    end
  end
end

function done(summary, latency, requests)
  local total = 0
  for _, thread in ipairs(threads) do
    total = total + thread:get("bad")
  end
  io.write(string.format("requests/s: %.0f  p50: %.3f ms  p99: %.3f ms  bad answers: %s\n",
    summary.requests / (summary.duration / 1e6),
    latency:percentile(50) / 1000, latency:percentile(99) / 1000,
    os.getenv("RPC_CHECK") == "0" and "not checked" or tostring(total)))
end
