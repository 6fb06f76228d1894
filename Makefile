# mqtt-auth-proxy: the two commands of the README, and a few more.
#   make          build into build/ (binaries in build/bin/)
#   make test     install dependencies, build, run every test (unit and integration)
#   make demo     run the proxy with a local Redis and Mosquitto on the default config
BUILD_DIR ?= build
BUILD_TYPE ?= RelWithDebInfo
JOBS ?= $(shell nproc)

.PHONY: all deps configure build test demo clean

all: build

deps:
	@scripts/install-deps.sh

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

clean:
	rm -rf $(BUILD_DIR)
