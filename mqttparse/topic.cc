// mqttparse/topic.cc: topic filters and matching.
#include "mqttparse/topic.h"

namespace mqttparse {

namespace {

// LevelCursor walks the '/'-separated levels of a topic or filter. An empty string has one
// empty level; "a/" has two levels, "a" and "".
class LevelCursor {
 public:
  explicit LevelCursor(std::string_view text) : text_(text) {}
  bool done() const { return done_; }
  std::string_view next() {
    size_t slash = text_.find('/', pos_);
    std::string_view level;
    if (slash == std::string_view::npos) {
      level = text_.substr(pos_);
      done_ = true;
    } else {
      level = text_.substr(pos_, slash - pos_);
      pos_ = slash + 1;
    }
    return level;
  }

 private:
  std::string_view text_;
  size_t pos_ = 0;
  bool done_ = false;
};

bool starts_with_dollar(std::string_view text) { return !text.empty() && text[0] == '$'; }
bool starts_with_wildcard(std::string_view text) {
  return !text.empty() && (text[0] == '+' || text[0] == '#');
}

// The '$' rule between two filters: a filter starting with a wildcard matches no '$' topic,
// so it neither covers nor overlaps a filter whose first level is a literal '$' level.
bool dollar_rule_separates(std::string_view wildcard_side, std::string_view dollar_side) {
  return starts_with_wildcard(wildcard_side) && starts_with_dollar(dollar_side);
}

}  // namespace

bool is_valid_topic_filter(std::string_view filter) {
  if (filter.empty()) return false;
  LevelCursor levels(filter);
  while (!levels.done()) {
    std::string_view level = levels.next();
    if (level.find('\0') != std::string_view::npos) return false;
    if (level == "#") {
      if (!levels.done()) return false;
      continue;
    }
    if (level == "+") continue;
    if (level.find_first_of("+#") != std::string_view::npos) return false;
  }
  return true;
}

bool topic_matches(std::string_view filter, std::string_view topic) {
  if (dollar_rule_separates(filter, topic)) return false;
  LevelCursor f(filter);
  LevelCursor t(topic);
  while (!f.done()) {
    std::string_view fl = f.next();
    if (fl == "#") return true;  // also matches the parent level: "a/#" matches "a"
    if (t.done()) return false;
    std::string_view tl = t.next();
    if (fl != "+" && fl != tl) return false;
  }
  return t.done();
}

bool filter_covers(std::string_view outer, std::string_view inner) {
  if (dollar_rule_separates(outer, inner)) return false;
  LevelCursor o(outer);
  LevelCursor i(inner);
  while (!o.done()) {
    std::string_view ol = o.next();
    if (ol == "#") return true;
    if (i.done()) return false;
    std::string_view il = i.next();
    if (il == "#") return false;  // inner reaches deeper levels outer does not match
    if (ol == "+") continue;
    if (il == "+" || il != ol) return false;
  }
  return i.done();
}

bool filters_overlap(std::string_view a, std::string_view b) {
  if (dollar_rule_separates(a, b) || dollar_rule_separates(b, a)) return false;
  LevelCursor x(a);
  LevelCursor y(b);
  while (!x.done() && !y.done()) {
    std::string_view xl = x.next();
    std::string_view yl = y.next();
    if (xl == "#" || yl == "#") return true;
    if (xl == "+" || yl == "+") continue;
    if (xl != yl) return false;
  }
  if (x.done() && y.done()) return true;
  // One ran out of levels: the other overlaps only through a following "#", which also
  // matches the parent level ("a" and "a/#").
  LevelCursor& rest = x.done() ? y : x;
  return rest.next() == "#";
}

ShareStatus parse_shared_filter(std::string_view filter, SharedFilter* out) {
  constexpr std::string_view kShare = "$share";
  if (filter.substr(0, kShare.size()) != kShare) return ShareStatus::kNotShared;
  if (filter.size() == kShare.size()) return ShareStatus::kMalformed;
  if (filter[kShare.size()] != '/') return ShareStatus::kNotShared;  // "$shared/..." etc.
  std::string_view rest = filter.substr(kShare.size() + 1);
  size_t slash = rest.find('/');
  if (slash == std::string_view::npos || slash == 0) return ShareStatus::kMalformed;
  std::string_view group = rest.substr(0, slash);
  if (group.find_first_of("+#") != std::string_view::npos) return ShareStatus::kMalformed;
  std::string_view inner = rest.substr(slash + 1);
  if (!is_valid_topic_filter(inner)) return ShareStatus::kMalformed;
  out->group = group;
  out->filter = inner;
  return ShareStatus::kShared;
}

}  // namespace mqttparse
