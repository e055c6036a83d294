-- common.lua - shared by every wrk script of the edhub benchmarks.
-- Numbers the threads (global `tid`, 0-based), keeps them for done(), and in
-- done() prints one machine-readable line:
--   BENCHJSON {"requests":..,"duration_s":..,"rps":..,"p50_ms":..,...,"statuses":{..}}
-- A script that defines response() should count statuses in the thread-global
-- table `statuses` (keys "s<code>") with count_status(); done() sums them.
local threads = {}
local nthreads = 0

function setup(thread)
   thread:set("tid", nthreads)
   nthreads = nthreads + 1
   table.insert(threads, thread)
end

statuses = {}
function count_status(status)
   local k = "s" .. status
   statuses[k] = (statuses[k] or 0) + 1
end

function done(summary, latency, requests)
   local st, have = {}, false
   for _, t in ipairs(threads) do
      local s = t:get("statuses")
      if type(s) == "table" then
         for k, v in pairs(s) do st[k] = (st[k] or 0) + v; have = true end
      end
   end
   local parts = {}
   for k, v in pairs(st) do table.insert(parts, string.format('"%s":%d', string.sub(k, 2), v)) end
   local e = summary.errors
   local dur = summary.duration / 1e6
   io.write(string.format(
      'BENCHJSON {"requests":%d,"duration_s":%.6f,"rps":%.2f,"bytes":%d,' ..
      '"err_connect":%d,"err_read":%d,"err_write":%d,"err_status":%d,"err_timeout":%d,' ..
      '"mean_ms":%.4f,"p50_ms":%.4f,"p90_ms":%.4f,"p95_ms":%.4f,"p99_ms":%.4f,"max_ms":%.4f,' ..
      '"threads":%d,"status_counted":%s,"statuses":{%s}}\n',
      summary.requests, dur, summary.requests / dur, summary.bytes,
      e.connect, e.read, e.write, e.status, e.timeout,
      latency.mean / 1e3, latency:percentile(50) / 1e3, latency:percentile(90) / 1e3,
      latency:percentile(95) / 1e3, latency:percentile(99) / 1e3, latency.max / 1e3,
      nthreads, tostring(have), table.concat(parts, ",")))
end
