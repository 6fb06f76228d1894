// config/template.h: rewrite templates such as "${device.tenant}/${client_id}", parsed and
// validated once at config load, expanded per connection. Pure code.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace config {

// Supplies a variable's value at expansion time: "client_id", "device_id", "username",
// "listener", "cert_id", "cert_cn", or "device.<field>". nullopt expands to "".
using TemplateLookup = std::function<std::optional<std::string_view>(std::string_view name)>;

class Template {
 public:
  Template() = default;

  // parse: nullopt with *out_error set when |text| has an unterminated "${", an empty
  // variable, or a variable not in the list above. "$$" is a literal "$".
  static std::optional<Template> parse(std::string_view text, std::string* out_error);

  // variable: a template that expands to the single variable |name|, which must be one of
  // the names above (used for built-in defaults such as "${client_id}").
  static Template variable(std::string_view name);

  // is_valid_variable: whether |name| (without "${" "}") may appear in a template.
  static bool is_valid_variable(std::string_view name);

  std::string expand(const TemplateLookup& lookup) const;
  bool empty() const { return segments_.empty(); }
  const std::string& source() const { return source_; }

 private:
  struct Segment {
    bool is_variable = false;
    std::string text;  // literal text, or the variable name
  };
  std::vector<Segment> segments_;
  std::string source_;
};

}  // namespace config
