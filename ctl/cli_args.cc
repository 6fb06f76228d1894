// ctl/cli_args.cc: see cli_args.h.
#include "ctl/cli_args.h"

namespace ctl {

std::optional<std::string> ParsedArgs::value(const std::string& name) const {
  auto found = options_.find(name);
  if (found == options_.end() || found->second.empty()) return std::nullopt;
  return found->second.back();
}

std::vector<std::string> ParsedArgs::values(const std::string& name) const {
  auto found = options_.find(name);
  return found == options_.end() ? std::vector<std::string>{} : found->second;
}

std::vector<std::string> ParsedArgs::option_names() const {
  std::vector<std::string> names;
  for (const auto& [name, values] : options_) names.push_back(name);
  return names;
}

bool parse_args(std::span<const std::string> args, std::span<const OptionSpec> spec,
                ParsedArgs* out, std::string* out_error) {
  bool options_ended = false;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& arg = args[i];
    if (options_ended || arg.size() < 3 || !arg.starts_with("--")) {
      if (arg == "--") {
        options_ended = true;
        continue;
      }
      if (!options_ended && arg.size() > 1 && arg[0] == '-' && arg != "-") {
        *out_error = "unknown option " + arg;
        return false;
      }
      out->positionals.push_back(arg);
      continue;
    }
    std::string name = arg.substr(2);
    std::optional<std::string> inline_value;
    if (size_t equals = name.find('='); equals != std::string::npos) {
      inline_value = name.substr(equals + 1);
      name.resize(equals);
    }
    const OptionSpec* option = nullptr;
    for (const OptionSpec& candidate : spec) {
      if (name == candidate.name) option = &candidate;
    }
    if (option == nullptr) {
      *out_error = "unknown option --" + name;
      return false;
    }
    if (!option->takes_value) {
      if (inline_value) {
        *out_error = "--" + name + " takes no value";
        return false;
      }
      out->add(name, "");
      continue;
    }
    if (inline_value) {
      out->add(name, *inline_value);
    } else if (i + 1 < args.size()) {
      out->add(name, args[++i]);
    } else {
      *out_error = "--" + name + " needs a value";
      return false;
    }
  }
  return true;
}

}  // namespace ctl
