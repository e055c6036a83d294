-- get.lua - plain GET of the URL given to wrk (no response() hook, so wrk does
-- not parse bodies); only adds the BENCHJSON summary line.
dofile(os.getenv("BENCH_LUA_DIR") .. "/common.lua")
