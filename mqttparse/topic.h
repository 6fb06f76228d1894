// mqttparse/topic.h: topic filter syntax, matching (with the '$' rule), filter-versus-filter
// relations used by ACLs, and `$share/{group}/{filter}` parsing. Pure code, no allocation.
#pragma once

#include <string_view>

namespace mqttparse {

// is_valid_topic_filter: non-empty, no U+0000, '#' only as the whole last level, '+' only
// as a whole level (MQTT 3.1.1/5.0 section 4.7.1). UTF-8 well-formedness is the decoder's
// job and is not rechecked here.
bool is_valid_topic_filter(std::string_view filter);

// topic_matches: the topic name |topic| is matched by the valid filter |filter|. A topic
// whose first character is '$' is not matched by a filter whose first level is a wildcard
// ([MQTT-4.7.2-1]): "#" does not match "$SYS/x", "$SYS/#" does.
bool topic_matches(std::string_view filter, std::string_view topic);

// filter_covers: every topic matched by the valid filter |inner| is matched by the valid
// filter |outer| ("a/#" covers "a/+/b"; "a/+" does not cover "a/#"). Used to grant a
// subscription only when an allow rule covers all of it.
bool filter_covers(std::string_view outer, std::string_view inner);

// filters_overlap: some topic is matched by both valid filters ("a/+" and "+/b" overlap on
// "a/b"). Used to deny a subscription that could receive any topic a deny rule names.
bool filters_overlap(std::string_view a, std::string_view b);

// A shared subscription filter "$share/{group}/{filter}" (MQTT 5.0 section 4.8.2; Mosquitto
// and EMQX accept it in 3.1.1 too).
struct SharedFilter {
  std::string_view group;
  std::string_view filter;  // the part after the group: what the subscription matches
};

enum class ShareStatus { kNotShared, kShared, kMalformed };

// parse_shared_filter: kShared when |filter| starts with "$share/" followed by a non-empty
// group without '+', '#' or '/', a '/', and a non-empty valid filter; kMalformed when it
// starts with "$share/" but breaks those rules (or is exactly "$share"); kNotShared otherwise.
ShareStatus parse_shared_filter(std::string_view filter, SharedFilter* out);

}  // namespace mqttparse
