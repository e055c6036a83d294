-- get_ids.lua - GET-by-id over ids collected from Location headers.
-- args: ID_FILE PATH_PREFIX NTHREADS
-- Every thread pre-builds up to 20,000 requests (its own slice of the id list,
-- interleaved by thread) in init() and cycles through them, so the client does
-- no string work per request. No response() hook; wrk counts statuses > 399.
dofile(os.getenv("BENCH_LUA_DIR") .. "/common.lua")

function init(args)
   local ids = {}
   for line in io.lines(args[1]) do
      local id = line:match("^([^\t]+)")
      if id and #id > 0 then ids[#ids + 1] = id end
   end
   local prefix = args[2]
   local nth = tonumber(args[3])
   reqs = {}
   local j = tid + 1
   while j <= #ids and #reqs < 20000 do
      reqs[#reqs + 1] = wrk.format("GET", prefix .. ids[j])
      j = j + nth
   end
   if #reqs == 0 then reqs[1] = wrk.format("GET", prefix .. (ids[1] or "none")) end
   n = #reqs
   i = 0
end

function request()
   i = i + 1
   if i > n then i = 1 end
   return reqs[i]
end
