// config_fuzz: config::load_config_string on arbitrary text (YAML parsing and every
// section's validation). Checks, beyond "no crash, no sanitizer report": a config is
// returned exactly when there is no error, and every error renders to a non-empty line.
// Referenced TLS files resolve against a folder that does not exist, so file checks fail
// the same way every run.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "config/config.h"

namespace {

void require(bool condition) {
  if (!condition) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string text(reinterpret_cast<const char*>(data), size);
  config::LoadResult result = config::load_config_string(text, "fuzz.yaml", "/nonexistent-fuzz");
  require(result.config.has_value() == result.errors.empty());
  for (const config::ConfigError& error : result.errors) require(!error.to_string().empty());
  for (const config::ConfigError& warning : result.warnings) require(!warning.to_string().empty());
  return 0;
}
