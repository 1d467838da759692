# edgeloop: the two commands a newcomer needs, and a few more for developers.
#
#   make demo        install what is missing, build, run the whole loop on embedded defaults
#   make test        install what is missing, build, run every test (what CI runs)
#
#   make build       configure + build (Release) into build/
#   make test-quick  every test not labelled slow
#   make test-asan   the test suite under AddressSanitizer + UndefinedBehaviorSanitizer (build-asan/)
#   make fuzz        the libFuzzer targets for a bounded time (FUZZ_SECONDS each, build-fuzz/)
#   make bench       the benchmarks against their peers (installs the peers first);
#                    BENCH="infer_compare ingest" runs only those
#   make cross-test  the core built for aarch64 and its tests run under qemu-user (build-aarch64/);
#                    part of `make test` (about 4 CPU-minutes: the NEON kernels are tested there)

BUILD ?= build
BENCH ?=
JOBS ?= $(shell nproc)
FUZZ_SECONDS ?= 40
CMAKE_FLAGS ?=
GENERATOR := $(shell command -v ninja >/dev/null 2>&1 && echo "-G Ninja")

.PHONY: all deps build test test-quick test-asan fuzz demo bench cross-test clean

all: build

deps:
	@scripts/install-deps

# Configure once; later builds reuse the tree.
$(BUILD)/CMakeCache.txt:
	cmake -S . -B $(BUILD) $(GENERATOR) -DCMAKE_BUILD_TYPE=Release $(CMAKE_FLAGS)

build: deps $(BUILD)/CMakeCache.txt
	cmake --build $(BUILD) -j $(JOBS)

test: build
	@scripts/install-test-tools
	ctest --test-dir $(BUILD) -j $(JOBS) --output-on-failure --timeout 600
	@$(MAKE) --no-print-directory fuzz FUZZ_SECONDS=$(FUZZ_SECONDS)
	@$(MAKE) --no-print-directory cross-test

test-quick: build
	@scripts/install-test-tools
	ctest --test-dir $(BUILD) -j $(JOBS) --output-on-failure -LE slow

test-asan: deps
	@scripts/install-test-tools
	$(MAKE) --no-print-directory build BUILD=build-asan CMAKE_FLAGS="-DEDGELOOP_SANITIZE=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo"
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 LSAN_OPTIONS=suppressions=$(CURDIR)/test/lsan.supp \
	  UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	  ctest --test-dir build-asan -j $(JOBS) --output-on-failure --timeout 1200 -LE "slow|noasan"

fuzz: deps
	@scripts/run-fuzzers $(FUZZ_SECONDS)

demo: build
	$(BUILD)/bin/edgeloop demo

bench: build
	@scripts/install-deps --bench
	@BUILD=$(BUILD) scripts/run-benchmarks $(BENCH)

cross-test:
	@scripts/install-deps --cross
	@scripts/cross-test

clean:
	rm -rf build build-asan build-fuzz build-aarch64
