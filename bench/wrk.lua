-- wrk script for bench/run.sh. Environment (read with os.getenv, so one file serves every scenario):
--   BENCH_SCENARIO   label printed in the result line
--   BENCH_MODE       "get" (default): wrk sends the URL given on its command line, headers from -H
--                    "paths": GET, cycling through the space-separated paths of BENCH_PATHS (each
--                    connection starts at a different one), with the bearer key of BENCH_KEY
--                    "create": every request is POST <BENCH_CREATE_PATH> with a unique name
--   BENCH_KEY        API key for the paths and create modes (get mode passes it with -H); sent
--                    only when not empty (the bare server takes none)
--   BENCH_CREATE_PATH create mode: where to POST (default /api/v1/partners)
--   BENCH_IDEMPOTENCY create mode: "1" sends a unique Idempotency-Key with every request
--   BENCH_PREFIX     name prefix for create mode; names are <prefix>-<thread>-<n>
--   BENCH_QUOTA      create mode: answered creates per thread, then the thread stops (0 = no
--                    limit). Requests already in flight on the thread's other connections still
--                    land, so each thread creates the quota plus at most (connections per thread
--                    - 1); created= reports every 201 wrk read.
--   BENCH_DONE_DIR   create mode with a quota: each thread touches <dir>/<thread> when its quota
--                    is answered. wrk's main thread sleeps for the whole -d even after every thread
--                    called wrk.thread:stop(), so run.sh watches these files and then sends wrk
--                    SIGINT, which ends the run at once and still prints the summary and done().
--   BENCH_COUNT      "1": count every answer by status (ok = 2xx, failed = anything else), as the
--                    quota does; costs a little throughput, so only the mixed scenario uses it
--
-- done() prints one line that run.sh parses:
--   BENCH scenario=.. rps=.. p50_ms=.. p99_ms=.. requests=.. http_errors=.. socket_errors=.. created=.. failed=..
-- http_errors counts responses with status >= 400 (wrk's own count); socket_errors are connect,
-- read, write and timeout errors. A scenario is only valid when both are 0. With a response()
-- callback (quota or BENCH_COUNT), created= counts 2xx answers and failed= every other status.

local threads = {}
local next_tid = 0

-- Runs in the main Lua state once per thread, before the threads start.
function setup(thread)
   thread:set("tid", next_tid)
   next_tid = next_tid + 1
   table.insert(threads, thread)
end

local mode = os.getenv("BENCH_MODE") or "get"
local quota_env = tonumber(os.getenv("BENCH_QUOTA") or "0") or 0
local count_env = os.getenv("BENCH_COUNT") == "1"

local function common_init()
   key = os.getenv("BENCH_KEY") or ""
   quota = tonumber(os.getenv("BENCH_QUOTA") or "0") or 0
   done_dir = os.getenv("BENCH_DONE_DIR")
   issued, created, failed, finished = 0, 0, 0, false
   headers = {}
   if key ~= "" then
      headers["Authorization"] = "Bearer " .. key
   end
end

if mode == "create" then
   local REGIONS = {
      { "华东", { "上海", "杭州", "南京" } },
      { "华北", { "北京", "天津" } },
      { "华南", { "广州", "深圳" } },
      { "西南", { "成都", "重庆" } },
      { "东北", { "沈阳", "哈尔滨" } },
   }
   local TIERS = { "strategic", "key", "standard", "probation" }
   -- kind must fit channel_type: a sales team is a direct channel, the others are indirect.
   local KINDS = {
      { "indirect", "agent" },
      { "indirect", "distributor" },
      { "indirect", "reseller" },
      { "direct", "sales_team" },
   }

   local function partner_json(n, name)
      local region = REGIONS[(n % #REGIONS) + 1]
      -- tier cycles every 5 so that every (region, tier) pair is equally common.
      local tier = TIERS[(math.floor(n / #REGIONS) % #TIERS) + 1]
      local kind = KINDS[(math.floor(n / 7) % #KINDS) + 1]
      local territories = region[2]
      local territory = territories[(math.floor(n / 3) % #territories) + 1]
      return string.format(
         '{"name":"%s","channel_type":"%s","kind":"%s","tier":"%s","region":"%s","territories":["%s"],"owner":"owner-%d"}',
         name, kind[1], kind[2], tier, region[1], territory, n % 50)
   end

   -- Runs in each thread's own Lua state; globals here are per thread (and readable by thread:get).
   function init(args)
      common_init()
      prefix = os.getenv("BENCH_PREFIX") or "bench"
      create_path = os.getenv("BENCH_CREATE_PATH") or "/api/v1/partners"
      idempotency = os.getenv("BENCH_IDEMPOTENCY") == "1"
      headers["Content-Type"] = "application/json"
   end

   -- The quota is enforced on answers (in response()), not here: wrk calls request() once more on
   -- thread 0 before the run to check for pipelining and throws that request away, so counting
   -- issued requests would leave thread 0 one short. `issued` only makes names unique.
   function request()
      issued = issued + 1
      local name = string.format("%s-%d-%d", prefix, tid, issued)
      if idempotency then
         headers["Idempotency-Key"] = name
      end
      return wrk.format("POST", create_path, headers, partner_json(issued, name))
   end
elseif mode == "paths" then
   function init(args)
      common_init()
      paths = {}
      for p in string.gmatch(os.getenv("BENCH_PATHS") or "/", "%S+") do
         table.insert(paths, p)
      end
   end

   function request()
      issued = issued + 1
      return wrk.format("GET", paths[((issued + tid) % #paths) + 1], headers)
   end
else
   function init(args)
      common_init()
   end
end

-- Only defined when asked for: parsing responses in Lua costs throughput.
if quota_env > 0 or count_env then
   function response(status, headers, body)
      if status >= 200 and status < 300 then
         created = created + 1
      else
         failed = failed + 1
      end
      if quota > 0 and not finished and created + failed >= quota then
         finished = true
         if done_dir then
            local f = io.open(done_dir .. "/" .. tid, "w")
            if f then f:close() end
         end
         wrk.thread:stop()
      end
   end
end

-- Runs in the main Lua state after all threads have stopped.
function done(summary, latency, requests)
   local created, failed = 0, 0
   for _, t in ipairs(threads) do
      created = created + (tonumber(t:get("created")) or 0)
      failed = failed + (tonumber(t:get("failed")) or 0)
   end
   local e = summary.errors
   local seconds = summary.duration / 1e6
   io.write(string.format(
      "BENCH scenario=%s rps=%.1f p50_ms=%.3f p99_ms=%.3f requests=%d http_errors=%d socket_errors=%d created=%d failed=%d\n",
      os.getenv("BENCH_SCENARIO") or "unnamed",
      summary.requests / seconds,
      latency:percentile(50) / 1000,
      latency:percentile(99) / 1000,
      summary.requests,
      e.status,
      e.connect + e.read + e.write + e.timeout,
      created, failed))
end
