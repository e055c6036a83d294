# edhub build. `make` leaves the release binary at ./edhub.
#   make run     install what is missing, build, init ./data, serve on :8080
#   make test    every test (unit + end-to-end + fuzz smoke) under ASan+UBSan
#   make bench   benchmarks -> bench/RESULTS.md
SHELL := /bin/bash
CC ?= cc
SRC := $(shell find src -name '*.c' | sort)
LIB_SRC := $(filter-out src/cli/%,$(SRC))
CLI_SRC := $(filter src/cli/%,$(SRC))
LIBS := -ljson-c -lmicrohttpd -lsqlite3 -lpq -lxml2 -lcurl -lcrypto -lpthread -lm
WARN := -Wall -Wextra -Wshadow -Wstrict-prototypes -Wno-missing-field-initializers
CFLAGS ?= -O2 -g
BASE_CFLAGS := -std=gnu11 $(WARN) -D_GNU_SOURCE -I/usr/include/postgresql -I/usr/include/libxml2 -MMD -MP

REL_OBJ := $(LIB_SRC:%.c=build/rel/%.o)
SAN_OBJ := $(LIB_SRC:%.c=build/san/%.o)
SAN_CC := clang
SAN_FLAGS := -O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=undefined

UNIT_SRC := $(wildcard tests/unit/test_*.c)
FUZZ_SRC := $(wildcard tests/fuzz/fuzz_*.c)

.PHONY: all run test unit e2e fuzz bench clean deps san unit-pg e2e-pg test-pg
all: edhub

deps:
	@scripts/deps.sh build

edhub: build/rel/edhub
	cp $< $@.tmp && mv -f $@.tmp $@   # rename: works while an old ./edhub is running

build/rel/edhub: $(REL_OBJ) $(CLI_SRC:%.c=build/rel/%.o)
	$(CC) $(CFLAGS) -o $@ $^ $(LIBS)

build/rel/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(BASE_CFLAGS) $(CFLAGS) -c $< -o $@

build/san/%.o: %.c
	@mkdir -p $(dir $@)
	$(SAN_CC) $(BASE_CFLAGS) $(SAN_FLAGS) -c $< -o $@

build/san/edhub: $(SAN_OBJ) $(CLI_SRC:%.c=build/san/%.o)
	$(SAN_CC) $(SAN_FLAGS) -o $@ $^ $(LIBS)

san: build/san/edhub

build/san/unit/%: tests/unit/%.c $(SAN_OBJ)
	@mkdir -p $(dir $@)
	$(SAN_CC) $(BASE_CFLAGS) $(SAN_FLAGS) -Isrc -o $@ $< $(SAN_OBJ) $(LIBS) -lcriterion

build/fuzz/%: tests/fuzz/%.c $(LIB_SRC)
	@mkdir -p $(dir $@)
	clang $(BASE_CFLAGS) -O1 -g -fsanitize=fuzzer,address,undefined -Isrc -o $@ $< $(LIB_SRC) $(LIBS)

run: deps
	@$(MAKE) --no-print-directory edhub
	@if [ ! -f data/ods.sqlite ]; then ./edhub init --data data; \
	 else echo "edhub: serving the existing instance in ./data; use the key and secret printed when it was created," \
	   "or set a new pair with: ./edhub init --data data --client-key KEY --client-secret SECRET"; fi
	./edhub serve --data data --listen 127.0.0.1:8080

# Criterion runs each test in a child process whose sanitizer reports do not
# fail the test, so the output is scanned for them as well.
unit: $(UNIT_SRC:tests/unit/%.c=build/san/unit/%)
	@set -e; mkdir -p build/san/unit; for t in $^; do echo "== $$t"; \
	  ASAN_OPTIONS=detect_leaks=1 $$t --jobs 2 2>&1 | tee build/san/unit/last.log; \
	  test $${PIPESTATUS[0]} -eq 0; \
	  if grep -qE 'ERROR: (Leak|Address)Sanitizer|runtime error:|unit: memory leaked' build/san/unit/last.log; then \
	    echo "unit: sanitizer report in $$t (see above)"; exit 1; fi; done

e2e: build/san/edhub edhub
	EDHUB=build/san/edhub python3 tests/e2e/run.py

# The same suites on PostgreSQL (inside scripts/with-pg.sh, which provides
# the server): the store, engine and auth unit tests, and all of e2e.
PG_UNIT := test_store test_engine test_auth test_pg test_credentials
unit-pg: $(PG_UNIT:%=build/san/unit/%)
	@test -n "$$EDHUB_UNIT_PG" || { echo "unit-pg: run it as scripts/with-pg.sh make unit-pg"; exit 2; }
	@set -e; for t in $^; do echo "== $$t (PostgreSQL)"; \
	  ASAN_OPTIONS=detect_leaks=1 $$t --jobs 2 2>&1 | tee build/san/unit/last-pg.log; \
	  test $${PIPESTATUS[0]} -eq 0; \
	  if grep -qE 'ERROR: (Leak|Address)Sanitizer|runtime error:|unit: memory leaked' build/san/unit/last-pg.log; then \
	    echo "unit-pg: sanitizer report in $$t (see above)"; exit 1; fi; done

e2e-pg: build/san/edhub edhub
	@test -n "$$EDHUB_E2E_PG" || { echo "e2e-pg: run it as scripts/with-pg.sh make e2e-pg"; exit 2; }
	EDHUB=build/san/edhub python3 tests/e2e/run.py

test-pg:
	@scripts/with-pg.sh $(MAKE) --no-print-directory unit-pg e2e-pg

FUZZ_SECONDS ?= 30
fuzz: $(FUZZ_SRC:tests/fuzz/%.c=build/fuzz/%)
	@set -e; for f in $^; do n=$$(basename $$f); mkdir -p build/fuzz/corpus-$$n; \
	  echo "== $$n ($(FUZZ_SECONDS)s)"; \
	  EDHUB_MODEL=model/ds-5.2/ApiSchema.json $$f -max_total_time=$(FUZZ_SECONDS) -rss_limit_mb=2048 -print_final_stats=0 \
	    build/fuzz/corpus-$$n tests/fuzz/corpus/$$n 2>&1 | tail -3; done

test:
	@scripts/deps.sh test
	@$(MAKE) --no-print-directory unit
	@$(MAKE) --no-print-directory e2e
	@$(MAKE) --no-print-directory test-pg
	@$(MAKE) --no-print-directory fuzz

bench:
	@scripts/deps.sh bench
	@$(MAKE) --no-print-directory edhub
	bash bench/run.sh
	python3 bench/load.py
	python3 bench/publish.py

clean:
	rm -rf build edhub

-include $(REL_OBJ:.o=.d) $(SAN_OBJ:.o=.d) $(CLI_SRC:%.c=build/rel/%.d) $(CLI_SRC:%.c=build/san/%.d) $(wildcard build/san/unit/*.d)
