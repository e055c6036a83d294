-- ssa_post.lua - POST new studentSchoolAssociation documents, each one an insert.
-- args: BASE NSTUDENTS NTHREADS [PREFIX]
-- Request i of thread t has index idx = BASE + i*NTHREADS + t (distinct across
-- threads; the caller gives every run its own BASE). It references student
-- PREFIX..(idx % NSTUDENTS) (pre-created) with entryDate = 2000-01-01 + floor(idx / NSTUDENTS)
-- days, so (student, school, entryDate) never repeats: every request should be 201.
-- Non-201 responses are counted per status code (see common.lua).
dofile(os.getenv("BENCH_LUA_DIR") .. "/common.lua")

local T0 = 946728000 -- 2000-01-01T12:00:00Z
local path = "/data/v3/ed-fi/studentSchoolAssociations"
local fmt = '{"studentReference":{"studentUniqueId":"%s%d"},"schoolReference":{"schoolId":255901001},' ..
            '"entryDate":"%s","entryGradeLevelDescriptor":"uri://ed-fi.org/GradeLevelDescriptor#Ninth grade"}'

function init(args)
   base = tonumber(args[1])
   nstu = tonumber(args[2])
   nth = tonumber(args[3])
   prefix = args[4] or "P"
   c = 0
   wrk.headers["Content-Type"] = "application/json"
end

function request()
   local idx = base + c * nth + tid
   c = c + 1
   local s = idx % nstu
   local d = math.floor(idx / nstu)
   local body = string.format(fmt, prefix, s, os.date("!%Y-%m-%d", T0 + d * 86400))
   return wrk.format("POST", path, nil, body)
end

function response(status, headers, body)
   count_status(status)
end
