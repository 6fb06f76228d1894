// admin/json_body.h: reading API request bodies. Parsing is nlohmann::json's (Debian's
// nlohmann-json3-dev, exceptions never escape: parse errors come back as a status), behind
// a nesting-depth check; the typed getters turn a wrong or missing member into a 400 that
// names the field.
#pragma once

#include <nlohmann/json.hpp>

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "admin/api.h"

namespace admin {

inline constexpr size_t kMaxJsonDepth = 16;

// json_depth_ok: false when |text| nests objects/arrays deeper than |max_depth| (strings are
// skipped, so brackets inside them do not count).
bool json_depth_ok(std::string_view text, size_t max_depth);

// JsonBody: a parsed request body that must be a JSON object. The first failure is kept in
// error(); getters after a failure do nothing.
class JsonBody {
 public:
  explicit JsonBody(std::string_view text);

  bool ok() const { return !error_; }
  const HttpResponse& error() const { return *error_; }
  bool has(const char* name) const;

  // string: member |name| as a string of 1..max_size bytes (0..max_size when allow_empty).
  std::optional<std::string> string(const char* name, bool required, size_t max_size,
                                    bool allow_empty = false);
  std::optional<bool> boolean(const char* name, bool required);
  std::optional<int64_t> integer(const char* name, bool required, int64_t min, int64_t max);
  // id_list: a non-empty array of at most |max_items| record IDs (ctl::valid_record_id).
  std::optional<std::vector<std::string>> id_list(const char* name, size_t max_items);
  const nlohmann::json* member(const char* name) const;

  // fail records a 400 naming |field| and returns nullopt-friendly false.
  void fail(std::string_view message, std::string_view field);

 private:
  nlohmann::json root_;
  std::optional<HttpResponse> error_;
};

}  // namespace admin
