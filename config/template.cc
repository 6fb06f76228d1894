// config/template.cc: parsing and expansion of rewrite templates.
#include "config/template.h"

#include <array>

namespace config {
namespace {

constexpr std::array<std::string_view, 6> kPlainVariables = {
    "client_id", "device_id", "username", "listener", "cert_id", "cert_cn"};
constexpr std::string_view kDevicePrefix = "device.";
constexpr std::string_view kValidList =
    "client_id, device_id, username, listener, cert_id, cert_cn, device.<field>";

bool is_field_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
         c == '_' || c == '-';
}

}  // namespace

bool Template::is_valid_variable(std::string_view name) {
  for (std::string_view plain : kPlainVariables) {
    if (name == plain) return true;
  }
  if (!name.starts_with(kDevicePrefix)) return false;
  std::string_view field = name.substr(kDevicePrefix.size());
  if (field.empty()) return false;
  for (char c : field) {
    if (!is_field_char(c)) return false;
  }
  return true;
}

Template Template::variable(std::string_view name) {
  Template t;
  t.segments_.push_back(Segment{true, std::string(name)});
  t.source_ = "${" + std::string(name) + "}";
  return t;
}

std::optional<Template> Template::parse(std::string_view text, std::string* out_error) {
  Template t;
  t.source_ = std::string(text);
  std::string literal;
  auto flush_literal = [&] {
    if (!literal.empty()) t.segments_.push_back(Segment{false, std::move(literal)});
    literal.clear();
  };

  size_t i = 0;
  while (i < text.size()) {
    char c = text[i];
    // A "$" not followed by "$" or "{" is kept literally: only "${" starts a variable.
    if (c != '$' || i + 1 >= text.size() || (text[i + 1] != '$' && text[i + 1] != '{')) {
      literal.push_back(c);
      ++i;
      continue;
    }
    if (text[i + 1] == '$') {
      literal.push_back('$');
      i += 2;
      continue;
    }
    size_t close = text.find('}', i + 2);
    if (close == std::string_view::npos) {
      if (out_error) {
        *out_error = "unterminated \"${\" at offset " + std::to_string(i) +
                     " (write \"$$\" for a literal \"$\")";
      }
      return std::nullopt;
    }
    std::string_view name = text.substr(i + 2, close - (i + 2));
    if (name.empty()) {
      if (out_error) *out_error = "empty variable \"${}\" at offset " + std::to_string(i);
      return std::nullopt;
    }
    if (!is_valid_variable(name)) {
      if (out_error) {
        *out_error = "unknown variable \"${" + std::string(name) + "}\" (valid: " +
                     std::string(kValidList) + ")";
      }
      return std::nullopt;
    }
    flush_literal();
    t.segments_.push_back(Segment{true, std::string(name)});
    i = close + 1;
  }
  flush_literal();
  return t;
}

std::string Template::expand(const TemplateLookup& lookup) const {
  std::string out;
  for (const Segment& segment : segments_) {
    if (!segment.is_variable) {
      out += segment.text;
      continue;
    }
    if (!lookup) continue;
    std::optional<std::string_view> value = lookup(segment.text);
    if (value) out += *value;
  }
  return out;
}

}  // namespace config
