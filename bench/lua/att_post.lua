-- att_post.lua - POST new studentSchoolAttendanceEvent documents, each one an insert.
-- args: BASE NSTUDENTS NTHREADS PREFIX SESSION_NAME SCHOOLS
-- Request i of thread t has index idx = BASE + i*NTHREADS + t (distinct across threads; the
-- caller gives every run its own BASE). Student s = idx % NSTUDENTS is PREFIX..s (pre-created and
-- enrolled, by a StudentSchoolAssociation, at school SCHOOLS[s % #SCHOOLS], a comma-separated
-- list), the event is at that school, in its session SESSION_NAME (school year 2024), category
-- "In Attendance", eventDate = 2000-01-01 + floor(idx / NSTUDENTS) days, so the identity
-- (student, school, session, category, date) never repeats: every request should be 201.
-- Non-201 responses are counted per status code (see common.lua).
dofile(os.getenv("BENCH_LUA_DIR") .. "/common.lua")

local T0 = 946728000 -- 2000-01-01T12:00:00Z
local path = "/data/v3/ed-fi/studentSchoolAttendanceEvents"
local fmt = '{"studentReference":{"studentUniqueId":"%s%d"},"schoolReference":{"schoolId":%s},' ..
            '"sessionReference":{"schoolId":%s,"schoolYear":2024,"sessionName":"%s"},' ..
            '"attendanceEventCategoryDescriptor":"uri://ed-fi.org/AttendanceEventCategoryDescriptor#In Attendance",' ..
            '"eventDate":"%s"}'

function init(args)
   base = tonumber(args[1])
   nstu = tonumber(args[2])
   nth = tonumber(args[3])
   prefix = args[4]
   session = args[5]
   schools = {}
   for s in string.gmatch(args[6], "[^,]+") do schools[#schools + 1] = s end
   c = 0
   wrk.headers["Content-Type"] = "application/json"
end

function request()
   local idx = base + c * nth + tid
   c = c + 1
   local s = idx % nstu
   local d = math.floor(idx / nstu)
   local school = schools[(s % #schools) + 1]
   local body = string.format(fmt, prefix, s, school, school, session, os.date("!%Y-%m-%d", T0 + d * 86400))
   return wrk.format("POST", path, nil, body)
end

function response(status, headers, body)
   count_status(status)
end
