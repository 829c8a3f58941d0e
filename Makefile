# Thin wrapper over CMake. `make` builds everything for Lua 5.4; `make LUA=luajit` builds the
# same for OpenResty's LuaJIT. `make test` installs what is missing, builds both engines and
# the sanitizer build and runs every suite; `make demo` runs the flagship recipe against the
# built-in sandbox; `make test-asan` and `make fuzz` run the sanitizer and fuzz suites alone.
LUA ?= lua5.4
BUILD ?= build/$(LUA)
JOBS ?= $(shell nproc 2>/dev/null || echo 2)

.PHONY: all build deps demo test test-asan fuzz lint bench clean

all: build

build:
	@cmake -S . -B $(BUILD) -DLUA_ENGINE=$(LUA) >/dev/null
	@cmake --build $(BUILD) -j $(JOBS)

deps:
	@./.ci/deps

demo: deps
	@$(MAKE) --no-print-directory build
	@$(BUILD)/cleanlist --sandbox --time-scale 30 run prospect_to_crm --title "VP Sales" \
		--country US --max-credits 100

# Every suite: ctest, the specs on Lua 5.4, LuaJIT and the ASan+UBSan build, and each fuzz
# target for 10 s (make fuzz runs them for 60).
test: deps
	@$(MAKE) --no-print-directory build LUA=lua5.4
	@$(MAKE) --no-print-directory build LUA=luajit
	@cmake -S . -B build/asan -DLUA_ENGINE=lua5.4 -DCMAKE_BUILD_TYPE=asan >/dev/null
	@cmake --build build/asan -j $(JOBS)
	@ASAN_OPTIONS=detect_leaks=0:abort_on_error=1 CLEANLIST_ENGINES="lua5.4 luajit asan" \
	  CLEANLIST_FUZZ_SECONDS=10 ./spec/run

# AddressSanitizer + UBSan: the C tests, then every busted suite with the instrumented
# executable as the Lua 5.4 interpreter (and as the cleanlist the specs spawn).
test-asan: deps
	@cmake -S . -B build/asan -DLUA_ENGINE=lua5.4 -DCMAKE_BUILD_TYPE=asan >/dev/null
	@cmake --build build/asan -j $(JOBS)
	@ASAN_OPTIONS=detect_leaks=0:abort_on_error=1 CLEANLIST_ENGINES=asan ./spec/run

# libFuzzer (clang): each C parser for FUZZ_SECONDS (default 60), from the seed corpus in
# core/fuzz/corpus (new inputs land in build/fuzz/corpus, not in the tree).
FUZZ_SECONDS ?= 60
FUZZ_TARGETS = retry_after url auth headers
POLICY_C = core/cl_error.c core/cl_auth.c core/cl_url.c core/cl_retry.c core/cl_ratelimit.c \
	core/cl_headers.c
fuzz: deps
	@mkdir -p build/fuzz
	@for t in $(FUZZ_TARGETS); do \
	  clang -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all -Icore \
	    -D_POSIX_C_SOURCE=200809L -DCL_VERSION='"fuzz"' core/fuzz/fuzz_$$t.c $(POLICY_C) -lm \
	    -o build/fuzz/fuzz_$$t || exit 1; \
	  mkdir -p build/fuzz/corpus/$$t; \
	  echo "== fuzz_$$t ($(FUZZ_SECONDS) s)"; \
	  if build/fuzz/fuzz_$$t -max_total_time=$(FUZZ_SECONDS) -artifact_prefix=build/fuzz/ \
	      build/fuzz/corpus/$$t core/fuzz/corpus/$$t >build/fuzz/$$t.log 2>&1; then \
	    grep -E "^Done" build/fuzz/$$t.log; \
	  else \
	    tail -n 60 build/fuzz/$$t.log; echo "fuzz_$$t found a crash (build/fuzz/$$t.log)"; exit 1; \
	  fi; \
	done

lint:
	luacheck -q lua recipes spec sandbox/lua bench

clean:
	rm -rf build
