// ctl/cli_args.h: mqtt-authctl's command-line parsing. Options may appear anywhere
// (`--name value` or `--name=value`); `--` ends options.
#pragma once

#include <map>
#include <optional>
#include <span>
#include <string>
#include <vector>

namespace ctl {

struct OptionSpec {
  const char* name;  // without the leading "--"
  bool takes_value;
};

class ParsedArgs {
 public:
  std::vector<std::string> positionals;

  bool has(const std::string& name) const { return options_.count(name) != 0; }
  // value: the last value given for |name|, or nullopt.
  std::optional<std::string> value(const std::string& name) const;
  std::vector<std::string> values(const std::string& name) const;
  // option_names: every option present, for checking them against what a command accepts.
  std::vector<std::string> option_names() const;
  void add(const std::string& name, std::string value) {
    options_[name].push_back(std::move(value));
  }

 private:
  std::map<std::string, std::vector<std::string>> options_;
};

// parse_args parses |args| (without argv[0]) against |spec|. On failure returns false with a
// usage message in |out_error|.
bool parse_args(std::span<const std::string> args, std::span<const OptionSpec> spec,
                ParsedArgs* out, std::string* out_error);

}  // namespace ctl
