#include "tests/unit/config/config_test_util.h"

namespace config_test {

const char kMinimal[] =
    "listeners:\n"
    "  - name: token\n"
    "    bind: \"0.0.0.0:8883\"\n"
    "    auth: token\n"
    "    tls: {cert: server.crt, key: server.key}\n"
    "backend:\n"
    "  servers: [\"127.0.0.1:1883\"]\n";

config::LoadResult load(std::string_view yaml) {
  if (!yaml.empty() && yaml.front() == '\n') yaml.remove_prefix(1);
  return config::load_config_string(std::string(yaml), "test.yaml", "/etc/map");
}

config::LoadResult load_with(std::string_view extra) {
  if (!extra.empty() && extra.front() == '\n') extra.remove_prefix(1);
  return load(std::string(kMinimal) + std::string(extra));
}

std::string all_errors(const config::LoadResult& result) {
  std::string out;
  for (const config::ConfigError& e : result.errors) out += e.to_string() + "\n";
  return out;
}

bool has_error(const config::LoadResult& result, std::string_view key, int line,
               std::string_view fragment) {
  for (const config::ConfigError& e : result.errors) {
    if (e.key == key && e.line == line && e.message.find(fragment) != std::string::npos) {
      return true;
    }
  }
  return false;
}

}  // namespace config_test
