# Thin wrapper over CMake. `make` builds everything for Lua 5.4; `make LUA=luajit` (or lua5.1,
# lua5.2, lua5.3) builds the same for that engine. `make test` installs what is missing, builds
# every engine and the sanitizer build and runs every suite; `make demo` runs the flagship
# recipe against the built-in sandbox; `make install` installs for $(LUA) under $(PREFIX);
# `make deb` builds the Debian package; `make test-asan` and `make fuzz` run the sanitizer and
# fuzz suites alone.
LUA ?= lua5.4
BUILD ?= build/$(LUA)
JOBS ?= $(shell nproc 2>/dev/null || echo 2)
PREFIX ?= /usr/local
DESTDIR ?=
# the engines whose unit and functional specs make test also runs (every suite: 5.4, LuaJIT)
LIGHT_ENGINES ?= lua5.1 lua5.2 lua5.3

.PHONY: all build deps demo test test-asan test-deb fuzz lint format bench clean install uninstall deb mutate

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
	@for e in lua5.4 luajit $(LIGHT_ENGINES); do \
	  $(MAKE) --no-print-directory build LUA=$$e || exit 1; done
	@cmake -S . -B build/asan -DLUA_ENGINE=lua5.4 -DCMAKE_BUILD_TYPE=asan >/dev/null
	@cmake --build build/asan -j $(JOBS)
	@ASAN_OPTIONS=detect_leaks=0:abort_on_error=1 CLEANLIST_ENGINES="lua5.4 luajit asan" \
	  CLEANLIST_LIGHT_ENGINES="$(LIGHT_ENGINES)" CLEANLIST_FUZZ_SECONDS=10 ./spec/run

# The Debian package installed into this system with apt-get, used, and removed (as root).
test-deb: deps deb
	@CLEANLIST_DEB_CHECK=1 CLEANLIST_ENGINES=lua5.4 ./spec/run spec/install/deb_spec.lua

# AddressSanitizer + UBSan: the C tests, then every busted suite with the instrumented
# executable as the Lua 5.4 interpreter (and as the cleanlist the specs spawn).
test-asan: deps
	@cmake -S . -B build/asan -DLUA_ENGINE=lua5.4 -DCMAKE_BUILD_TYPE=asan >/dev/null
	@cmake --build build/asan -j $(JOBS)
	@ASAN_OPTIONS=detect_leaks=0:abort_on_error=1 CLEANLIST_ENGINES=asan ./spec/run

# libFuzzer (clang): each C parser for FUZZ_SECONDS (default 60), from the seed corpus in
# core/fuzz/corpus (new inputs land in build/fuzz/corpus, not in the tree).
FUZZ_SECONDS ?= 60
FUZZ_TARGETS = retry_after url auth
POLICY_C = core/cl_error.c core/cl_auth.c core/cl_url.c core/cl_retry.c core/cl_ratelimit.c
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

# The module for $(LUA), the executable, the man page, the recipes and the docs, under
# $(DESTDIR)$(PREFIX); `make uninstall` removes what the last install put there.
install: build
	@cmake -S . -B $(BUILD) -DCMAKE_INSTALL_PREFIX=$(PREFIX) >/dev/null
	@DESTDIR="$(DESTDIR)" cmake --install $(BUILD)

uninstall:
	@test -f $(BUILD)/install_manifest.txt || { echo "nothing installed from $(BUILD)"; exit 1; }
	@while read -r f || [ -n "$$f" ]; do rm -f "$(DESTDIR)$$f" && echo "removed $(DESTDIR)$$f"; done < $(BUILD)/install_manifest.txt
	@rm -f $(BUILD)/install_manifest.txt

# build/deb/cleanlist_<version>_<arch>.deb: the executable and the Lua 5.4 module under /usr.
deb: deps
	@cmake -S . -B build/deb -DLUA_ENGINE=lua5.4 -DCMAKE_BUILD_TYPE=Release -DBUILD_TESTING=OFF \
	  -DCMAKE_INSTALL_PREFIX=/usr -DDEBIAN_LAYOUT=ON >/dev/null
	@cmake --build build/deb -j $(JOBS)
	@cd build/deb && cpack -G DEB >/dev/null && ls -1 $$PWD/cleanlist_*.deb

# One style for the tree: luacheck, StyLua (.stylua.toml; its WebAssembly build from npm, run by
# tools/stylua.cjs) and clang-format (.clang-format). `make format` rewrites, `make lint` checks.
LUA_TREES = lua recipes spec sandbox/lua bench tools/mutate tools/mutants.lua
C_SOURCES = $(wildcard core/*.c core/*.h core/tests/*.c core/tests/*.h core/fuzz/*.c sandbox/*.c \
	sandbox/*.h host/*.c host/*.h)
STYLUA = node tools/stylua.cjs

tools/node_modules: tools/package.json
	@command -v npm >/dev/null || ./.ci/deps
	@npm ci --prefix tools --no-audit --no-fund --loglevel=error >/dev/null
	@touch $@

lint: tools/node_modules
	@luacheck -q $(LUA_TREES)
	@$(STYLUA) --check $(LUA_TREES)
	@clang-format --dry-run -Werror $(C_SOURCES)
	@echo "lint: clean"

format: tools/node_modules
	@$(STYLUA) $(LUA_TREES)
	@clang-format -i $(C_SOURCES)

# Mutation testing (tools/mutate, catalogue in tools/mutants.lua): each mutant applied to a
# scratch copy under $$TMPDIR, rebuilt, its specs run; prints the score and the survivors and
# fails under 90 %. MUTANTS=pattern runs the mutants whose id matches; MUTATE_JOBS=n copies
# at once. Not part of make test.
MUTANTS ?=
MUTATE_JOBS ?= 1
mutate:
	@nice lua5.4 tools/mutate -j $(MUTATE_JOBS) $(MUTANTS)

clean:
	rm -rf build
