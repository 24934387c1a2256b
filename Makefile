# Thin wrapper over CMake: make [all|demo|test|bench|fmt|lint|clean]. Builds go to build/.
BUILD ?= build
JOBS  ?= $(shell nproc)
CMAKE_FLAGS ?=
PY    ?= $(HOME)/.cache/ngt/venv/bin/python

.PHONY: all bootstrap demo test bench install fmt lint clean

all: $(BUILD)/Makefile
	cmake --build $(BUILD) -j$(JOBS)

$(BUILD)/Makefile:
	cmake -S . -B $(BUILD) $(CMAKE_FLAGS)

bootstrap:
	@scripts/bootstrap

# The default menu on the built-in event source (no torch, no hls4ml needed).
demo: bootstrap all
	$(BUILD)/ngt run configs/l1_demo.lua

# Plain build + every test, then the unit tests under ASan+UBSan and the scheduler under TSan.
# ci-test installs torch (scripts/bootstrap --torch) for the torch backend's tests.
test: bootstrap
	@scripts/ci-test

# Benchmarks run the peers side by side (ONNX Runtime, hls4ml, torch): bootstrap installs them.
bench:
	@scripts/bootstrap --peers --torch
	@$(MAKE) --no-print-directory all
	@scripts/bench

# Installs build/ngt, libngt, ngt.h and the Lua files under PREFIX (default /usr/local).
PREFIX ?= /usr/local
install: all
	cmake --install $(BUILD) --prefix $(PREFIX)

fmt:
	clang-format -i $$(git ls-files '*.c' '*.h' '*.cu' '*.cuh')

lint: all
	@scripts/lint $(BUILD)

clean:
	rm -rf $(BUILD) build-asan build-tsan build-fuzz build-min
