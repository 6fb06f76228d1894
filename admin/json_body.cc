// admin/json_body.cc: see json_body.h.
#include "admin/json_body.h"

namespace admin {

bool json_depth_ok(std::string_view text, size_t max_depth) {
  size_t depth = 0;
  bool in_string = false;
  bool escaped = false;
  for (char c : text) {
    if (in_string) {
      if (escaped) {
        escaped = false;
      } else if (c == '\\') {
        escaped = true;
      } else if (c == '"') {
        in_string = false;
      }
      continue;
    }
    if (c == '"') {
      in_string = true;
    } else if (c == '{' || c == '[') {
      if (++depth > max_depth) return false;
    } else if ((c == '}' || c == ']') && depth > 0) {
      --depth;
    }
  }
  return true;
}

JsonBody::JsonBody(std::string_view text) {
  if (!json_depth_ok(text, kMaxJsonDepth)) {
    fail("JSON nested too deeply", "body");
    return;
  }
  root_ = nlohmann::json::parse(text.begin(), text.end(), nullptr, /*allow_exceptions=*/false);
  if (root_.is_discarded()) {
    fail("body is not valid JSON", "body");
  } else if (!root_.is_object()) {
    fail("body must be a JSON object", "body");
  }
}

void JsonBody::fail(std::string_view message, std::string_view field) {
  if (!error_) error_ = error_response(400, message, field);
}

bool JsonBody::has(const char* name) const { return member(name) != nullptr; }

const nlohmann::json* JsonBody::member(const char* name) const {
  if (error_ || !root_.is_object()) return nullptr;
  auto it = root_.find(name);
  return it == root_.end() ? nullptr : &*it;
}

std::optional<std::string> JsonBody::string(const char* name, bool required, size_t max_size,
                                            bool allow_empty) {
  if (error_) return std::nullopt;
  const nlohmann::json* value = member(name);
  if (value == nullptr) {
    if (required) fail(std::string(name) + " is required", name);
    return std::nullopt;
  }
  if (!value->is_string()) {
    fail(std::string(name) + " must be a string", name);
    return std::nullopt;
  }
  const auto& text = value->get_ref<const std::string&>();
  if ((text.empty() && !allow_empty) || text.size() > max_size) {
    fail(std::string(name) + " must be 1.." + std::to_string(max_size) + " bytes", name);
    return std::nullopt;
  }
  return text;
}

std::optional<bool> JsonBody::boolean(const char* name, bool required) {
  if (error_) return std::nullopt;
  const nlohmann::json* value = member(name);
  if (value == nullptr) {
    if (required) fail(std::string(name) + " is required", name);
    return std::nullopt;
  }
  if (!value->is_boolean()) {
    fail(std::string(name) + " must be true or false", name);
    return std::nullopt;
  }
  return value->get<bool>();
}

std::optional<int64_t> JsonBody::integer(const char* name, bool required, int64_t min,
                                         int64_t max) {
  if (error_) return std::nullopt;
  const nlohmann::json* value = member(name);
  if (value == nullptr) {
    if (required) fail(std::string(name) + " is required", name);
    return std::nullopt;
  }
  if (!value->is_number_integer() || value->get<int64_t>() < min || value->get<int64_t>() > max) {
    fail(std::string(name) + " must be an integer in " + std::to_string(min) + ".." +
             std::to_string(max),
         name);
    return std::nullopt;
  }
  return value->get<int64_t>();
}

std::optional<std::vector<std::string>> JsonBody::id_list(const char* name, size_t max_items) {
  if (error_) return std::nullopt;
  const nlohmann::json* value = member(name);
  if (value == nullptr || !value->is_array() || value->empty() || value->size() > max_items) {
    fail(std::string(name) + " must be an array of 1.." + std::to_string(max_items) + " IDs",
         name);
    return std::nullopt;
  }
  std::vector<std::string> ids;
  for (const auto& item : *value) {
    if (!item.is_string() || !ctl::valid_record_id(item.get_ref<const std::string&>())) {
      fail(std::string(name) + " holds an invalid ID", name);
      return std::nullopt;
    }
    ids.push_back(item.get<std::string>());
  }
  return ids;
}

}  // namespace admin
