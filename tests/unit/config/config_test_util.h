// Helpers shared by the config tests: load real YAML text and look at the errors.
#pragma once

#include <string>
#include <string_view>

#include "config/config.h"

namespace config_test {

// The smallest valid config, 7 lines; text appended to it starts on line 8.
extern const char kMinimal[];

// load: load_config_string on |yaml| (a leading newline is dropped so the first line of a
// raw string literal is line 1), named "test.yaml", files relative to /etc/map.
config::LoadResult load(std::string_view yaml);

// load_with: kMinimal followed by |extra|.
config::LoadResult load_with(std::string_view extra);

// all_errors: every error's to_string(), one per line, for failure messages.
std::string all_errors(const config::LoadResult& result);

// has_error: an error with exactly |key| and |line| whose message contains |fragment|.
bool has_error(const config::LoadResult& result, std::string_view key, int line,
               std::string_view fragment = "");

}  // namespace config_test

// Expects exactly one error, with this key, line and message fragment.
#define EXPECT_ONLY_ERROR(result, key, line, fragment)                       \
  do {                                                                       \
    const auto& r_ = (result);                                               \
    EXPECT_FALSE(r_.config.has_value());                                     \
    EXPECT_EQ(r_.errors.size(), 1u) << config_test::all_errors(r_);          \
    EXPECT_TRUE(config_test::has_error(r_, key, line, fragment))             \
        << "wanted " << (key) << " on line " << (line) << " with \""         \
        << (fragment) << "\"; got:\n" << config_test::all_errors(r_);        \
  } while (0)

#define EXPECT_LOADS(result)                                                 \
  do {                                                                       \
    const auto& r_ = (result);                                               \
    EXPECT_TRUE(r_.config.has_value()) << config_test::all_errors(r_);       \
  } while (0)
