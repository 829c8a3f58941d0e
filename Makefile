# Thin wrapper over CMake. `make` builds everything for Lua 5.4; `make LUA=luajit` builds the
# same for OpenResty's LuaJIT. `make test` installs what is missing, builds both engines and
# runs every suite; `make demo` runs the flagship recipe against the built-in sandbox.
LUA ?= lua5.4
BUILD ?= build/$(LUA)
JOBS ?= $(shell nproc 2>/dev/null || echo 2)

.PHONY: all build deps demo test test-c test-lua lint bench clean

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

test: deps
	@$(MAKE) --no-print-directory build LUA=lua5.4
	@$(MAKE) --no-print-directory build LUA=luajit
	@./spec/run

lint:
	luacheck -q lua recipes spec sandbox/lua bench

clean:
	rm -rf build
