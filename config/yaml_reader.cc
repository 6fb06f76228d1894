// config/yaml_reader.cc: error-collecting accessors over yaml-cpp nodes.
#include "config/yaml_reader.h"

#include <algorithm>

namespace config {
namespace {

std::string describe_kind(const YAML::Node& node) {
  switch (node.Type()) {
    case YAML::NodeType::Sequence: return "a list";
    case YAML::NodeType::Map: return "a mapping";
    case YAML::NodeType::Null: return "empty";
    case YAML::NodeType::Scalar: return "a single value";
    default: return "undefined";
  }
}

std::string join_choices(std::initializer_list<std::string_view> choices) {
  std::string out;
  size_t i = 0;
  for (std::string_view choice : choices) {
    if (i > 0) out += (i + 1 == choices.size()) ? " or " : ", ";
    out += choice;
    ++i;
  }
  return out;
}

std::string join_list(std::initializer_list<std::string_view> names) {
  std::string out;
  for (std::string_view name : names) {
    if (!out.empty()) out += ", ";
    out += name;
  }
  return out;
}

// A bound such as 0 or 1000000 or 0.5, without trailing zeros.
std::string format_number(double value) {
  std::string text = std::to_string(value);
  while (!text.empty() && text.back() == '0') text.pop_back();
  if (!text.empty() && text.back() == '.') text.pop_back();
  return text;
}

}  // namespace

int line_of(const YAML::Node& node) {
  if (!node.IsDefined()) return 0;
  YAML::Mark mark = node.Mark();
  if (mark.is_null() || mark.line < 0) return 0;
  return mark.line + 1;
}

std::vector<ConfigError> Diagnostics::take_errors() {
  std::stable_sort(errors_.begin(), errors_.end(),
                   [](const ConfigError& a, const ConfigError& b) { return a.line < b.line; });
  return std::move(errors_);
}

std::vector<ConfigError> Diagnostics::take_warnings() {
  std::stable_sort(warnings_.begin(), warnings_.end(),
                   [](const ConfigError& a, const ConfigError& b) { return a.line < b.line; });
  return std::move(warnings_);
}

void Diagnostics::error(int line, std::string key, std::string message) {
  errors_.push_back(ConfigError{file_, line, std::move(key), std::move(message)});
}

void Diagnostics::warning(int line, std::string key, std::string message) {
  warnings_.push_back(ConfigError{file_, line, std::move(key), std::move(message)});
}

MapReader::MapReader(const Field& field, Diagnostics& diag,
                     std::initializer_list<std::string_view> known)
    : diag_(diag), path_(field.path), line_(field.key_line ? field.key_line : field.line) {
  if (!field.node.IsMap()) {
    diag_.error(field.line, path_, "must be a mapping of keys, not " + describe_kind(field.node));
    return;
  }
  ok_ = true;
  for (auto it = field.node.begin(); it != field.node.end(); ++it) {
    // The iterator yields a temporary pair: keep copies (Nodes are handles), not references.
    YAML::Node key_node = it->first;
    YAML::Node value_node = it->second;
    int key_line = line_of(key_node);
    if (!key_node.IsScalar()) {
      diag_.error(key_line, path_, "keys must be plain names, not " + describe_kind(key_node));
      continue;
    }
    std::string key = key_node.Scalar();
    std::string child = child_path(key);
    bool is_known = false;
    for (std::string_view k : known) is_known = is_known || k == key;
    if (!is_known) {
      std::string message = "unknown key";
      if (known.size() > 0) message += " (known keys: " + join_list(known) + ")";
      diag_.error(key_line, child, message);
      continue;
    }
    bool duplicate = false;
    for (const Entry& e : entries_) duplicate = duplicate || e.key == key;
    if (duplicate) {
      diag_.error(key_line, child, "duplicate key");
      continue;
    }
    // yaml-cpp marks an empty value ("key:" then a newline) at the next token, so blame the
    // key's line instead.
    int value_line = value_node.IsNull() ? 0 : line_of(value_node);
    entries_.push_back(
        Entry{key, Field{value_node, child, value_line ? value_line : key_line, key_line}});
  }
}

std::string MapReader::child_path(std::string_view key) const {
  if (path_.empty()) return std::string(key);
  return path_ + "." + std::string(key);
}

std::optional<Field> MapReader::get(std::string_view key) const {
  for (const Entry& e : entries_) {
    if (e.key == key) return e.value;
  }
  return std::nullopt;
}

std::optional<Field> MapReader::require(std::string_view key) const {
  std::optional<Field> field = get(key);
  if (!field && ok_) diag_.error(line_, child_path(key), "is required");
  return field;
}

std::optional<std::string> read_string(const Field& field, Diagnostics& diag) {
  if (field.node.IsNull()) {
    diag.error(field.line, field.path, "has no value");
    return std::nullopt;
  }
  if (!field.node.IsScalar()) {
    diag.error(field.line, field.path, "must be a single value, not " + describe_kind(field.node));
    return std::nullopt;
  }
  return field.node.Scalar();
}

std::optional<std::string> read_nonempty_string(const Field& field, Diagnostics& diag) {
  std::optional<std::string> value = read_string(field, diag);
  if (value && value->empty()) {
    diag.error(field.line, field.path, "must not be empty");
    return std::nullopt;
  }
  return value;
}

std::optional<bool> read_bool(const Field& field, Diagnostics& diag) {
  std::optional<std::string> text = read_string(field, diag);
  if (!text) return std::nullopt;
  bool value = false;
  if (!YAML::convert<bool>::decode(field.node, value)) {
    diag.error(field.line, field.path, "\"" + *text + "\" is not true or false");
    return std::nullopt;
  }
  return value;
}

std::optional<uint64_t> read_uint_in_range(const Field& field, Diagnostics& diag, uint64_t min,
                                           uint64_t max) {
  std::optional<std::string> text = read_string(field, diag);
  if (!text) return std::nullopt;
  std::string error;
  std::optional<uint64_t> value = parse_uint(*text, &error);
  if (!value) {
    diag.error(field.line, field.path, error);
    return std::nullopt;
  }
  if (*value < min || *value > max) {
    diag.error(field.line, field.path,
               "must be from " + std::to_string(min) + " to " + std::to_string(max));
    return std::nullopt;
  }
  return value;
}

std::optional<uint64_t> read_size_in_range(const Field& field, Diagnostics& diag, uint64_t min,
                                           uint64_t max) {
  std::optional<std::string> text = read_string(field, diag);
  if (!text) return std::nullopt;
  std::string error;
  std::optional<uint64_t> value = parse_size(*text, &error);
  if (!value) {
    diag.error(field.line, field.path, error);
    return std::nullopt;
  }
  if (*value < min || *value > max) {
    diag.error(field.line, field.path,
               "must be from " + std::to_string(min) + " to " + std::to_string(max) + " bytes");
    return std::nullopt;
  }
  return value;
}

std::optional<Duration> read_duration(const Field& field, Diagnostics& diag) {
  std::optional<std::string> text = read_string(field, diag);
  if (!text) return std::nullopt;
  std::string error;
  std::optional<Duration> value = parse_duration(*text, &error);
  if (!value) diag.error(field.line, field.path, error);
  return value;
}

std::optional<double> read_decimal_in_range(const Field& field, Diagnostics& diag, double min,
                                            double max) {
  std::optional<std::string> text = read_string(field, diag);
  if (!text) return std::nullopt;
  std::string error;
  std::optional<double> value = parse_decimal(*text, &error);
  if (!value) {
    diag.error(field.line, field.path, error);
    return std::nullopt;
  }
  if (*value < min || *value > max) {
    diag.error(field.line, field.path,
               "must be from " + format_number(min) + " to " + format_number(max));
    return std::nullopt;
  }
  return value;
}

std::optional<Duration> read_timeout(const Field& field, Diagnostics& diag) {
  std::optional<Duration> value = read_duration(field, diag);
  if (!value) return std::nullopt;
  if (value->count() <= 0) {
    diag.error(field.line, field.path, "must be greater than 0");
    return std::nullopt;
  }
  return value;
}

std::optional<HostPort> read_host_port(const Field& field, Diagnostics& diag, HostKind kind) {
  if (field.node.IsSequence()) {
    // An unquoted [::1]:8883 is read by YAML as a list.
    diag.error(field.line, field.path,
               "must be a \"host:port\" string (quote IPv6 addresses: \"[::1]:8883\")");
    return std::nullopt;
  }
  std::optional<std::string> text = read_nonempty_string(field, diag);
  if (!text) return std::nullopt;
  std::string error;
  std::optional<HostPort> value = parse_host_port(*text, kind, &error);
  if (!value) diag.error(field.line, field.path, error);
  return value;
}

std::optional<Template> read_template(const Field& field, Diagnostics& diag) {
  std::optional<std::string> text;
  if (field.node.IsNull()) {
    text = "";  // "password:" with nothing after it means no password
  } else {
    text = read_string(field, diag);
  }
  if (!text) return std::nullopt;
  std::string error;
  std::optional<Template> value = Template::parse(*text, &error);
  if (!value) diag.error(field.line, field.path, error);
  return value;
}

std::optional<size_t> read_choice(const Field& field, Diagnostics& diag,
                                  std::initializer_list<std::string_view> choices) {
  std::optional<std::string> text = read_string(field, diag);
  if (!text) return std::nullopt;
  size_t i = 0;
  for (std::string_view choice : choices) {
    if (*text == choice) return i;
    ++i;
  }
  diag.error(field.line, field.path,
             "\"" + *text + "\" is not valid (expected " + join_choices(choices) + ")");
  return std::nullopt;
}

std::optional<std::vector<Field>> read_sequence(const Field& field, Diagnostics& diag,
                                                bool non_empty) {
  if (!field.node.IsSequence()) {
    diag.error(field.line, field.path, "must be a list, not " + describe_kind(field.node));
    return std::nullopt;
  }
  if (non_empty && field.node.size() == 0) {
    diag.error(field.line, field.path, "must not be empty");
    return std::nullopt;
  }
  std::vector<Field> items;
  size_t index = 0;
  for (YAML::Node item : field.node) {
    int line = line_of(item);
    int item_line = line ? line : field.line;
    items.push_back(
        Field{item, field.path + "[" + std::to_string(index) + "]", item_line, item_line});
    ++index;
  }
  return items;
}

}  // namespace config
