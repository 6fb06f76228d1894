# mqtt-auth-proxy: the two commands of the README, and a few more.
#   make              build into build/ (binaries in build/bin/)
#   make test         install dependencies, build, run every unit and integration test
#   make demo         run the proxy with a local Redis and Mosquitto on the default config
#   make test-compat  the full compatibility matrix (brokers × clients; installs RabbitMQ)
#   make test-asan    the whole suite built with ASan + UBSan (build-asan/)
#   make fuzz         each libFuzzer target for FUZZ_SECONDS (default 60) (build-fuzz/)
#   make bench        the side-by-side benchmark against HAProxy and Mosquitto (docs/BENCHMARKS.md)
BUILD_DIR ?= build
BUILD_TYPE ?= RelWithDebInfo
JOBS ?= $(shell nproc)
FUZZ_SECONDS ?= 60

.PHONY: all deps configure build test demo clean test-compat test-asan fuzz bench

all: build

deps:
	@scripts/install-deps.sh
	@scripts/install-npm-peers.sh

$(BUILD_DIR)/CMakeCache.txt:
	cmake -S . -B $(BUILD_DIR) -DCMAKE_BUILD_TYPE=$(BUILD_TYPE)

configure: $(BUILD_DIR)/CMakeCache.txt

build: configure
	cmake --build $(BUILD_DIR) -j$(JOBS)

test: deps
	$(MAKE) build
	cd $(BUILD_DIR) && ctest --output-on-failure -j$(JOBS) --timeout 300

demo: deps
	$(MAKE) build
	scripts/demo.sh

test-compat: build
	scripts/install-deps.sh --all
	scripts/test-compat.sh

test-asan: deps
	scripts/test-asan.sh

fuzz: deps
	scripts/fuzz.sh $(FUZZ_SECONDS)

bench: build
	bench/compare

clean:
	rm -rf $(BUILD_DIR) build-asan build-fuzz
