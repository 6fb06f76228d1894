#include "auth/replica_choice.h"

#include <algorithm>
#include <charconv>
#include <string_view>

namespace auth {
namespace {

// Sentinel's flags field is a comma-separated list, e.g. "slave,s_down,disconnected".
bool has_flag(std::string_view flags, std::string_view wanted) {
  while (!flags.empty()) {
    size_t comma = flags.find(',');
    if (flags.substr(0, comma) == wanted) return true;
    if (comma == std::string_view::npos) break;
    flags.remove_prefix(comma + 1);
  }
  return false;
}

std::optional<uint16_t> parse_port(std::string_view text) {
  unsigned value = 0;
  auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error != std::errc() || end != text.data() + text.size() || value == 0 || value > 65535) {
    return std::nullopt;
  }
  return static_cast<uint16_t>(value);
}

const std::string* field(const SentinelEntry& entry, const char* name) {
  auto it = entry.find(name);
  return it == entry.end() ? nullptr : &it->second;
}

}  // namespace

std::vector<ReplicaAddress> usable_replicas(const std::vector<SentinelEntry>& entries) {
  std::vector<ReplicaAddress> out;
  for (const SentinelEntry& entry : entries) {
    const std::string* ip = field(entry, "ip");
    const std::string* port_text = field(entry, "port");
    const std::string* flags = field(entry, "flags");
    const std::string* link = field(entry, "master-link-status");
    if (ip == nullptr || ip->empty() || port_text == nullptr || flags == nullptr || link == nullptr) {
      continue;
    }
    std::optional<uint16_t> port = parse_port(*port_text);
    if (!port || *link != "ok") continue;
    bool down = false;
    for (std::string_view bad : {"s_down", "o_down", "disconnected", "promoted"}) {
      down = down || has_flag(*flags, bad);
    }
    if (down) continue;
    out.push_back({*ip, *port});
  }
  std::sort(out.begin(), out.end(), [](const ReplicaAddress& a, const ReplicaAddress& b) {
    return a.host != b.host ? a.host < b.host : a.port < b.port;
  });
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

std::optional<ReplicaAddress> choose_replica(const std::vector<ReplicaAddress>& usable, uint64_t pick) {
  if (usable.empty()) return std::nullopt;
  return usable[pick % usable.size()];
}

bool replica_in_sync(const std::vector<std::string>& role) {
  return role.size() >= 4 && role[0] == "slave" && role[3] == "connected";
}

}  // namespace auth
