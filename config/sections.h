// config/sections.h: internal to config/. Translates the YAML document into Config, one
// function per top-level section, recording every problem in the Diagnostics.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "config/config.h"
#include "config/yaml_reader.h"

namespace config {

// A file the config refers to (TLS material), already resolved to an absolute path, with
// where it was named so a missing file can be reported on the right line. A directory
// reference (admin.ca_dir) must be an existing folder instead of a readable file.
struct FileReference {
  std::string path;
  std::string key;
  int line = 0;
  bool is_directory = false;
};

struct LoadContext {
  Diagnostics& diag;
  std::filesystem::path base_dir;   // absolute; relative file names are resolved against it
  std::vector<FileReference> files;
};

// read_config: fills |out| from |root| (the document). |out| is meaningful only when
// ctx.diag has no errors afterwards.
void read_config(const YAML::Node& root, LoadContext& ctx, Config* out);

// The section readers below are shared between the sections*.cc files. Each records its
// own problems and leaves a default in place of a bad value.

// is_valid_name: 1..64 of letters, digits, "_", "-", "." (listener and admin token names,
// which appear in logs, metrics labels and Redis records).
bool is_valid_name(std::string_view name);

// resolve_path: a non-empty path, made absolute against ctx.base_dir. read_file_path also
// records it for the existence check; read_dir_path records it as a directory.
std::optional<std::string> resolve_path(const Field& field, LoadContext& ctx);
std::optional<std::string> read_file_path(const Field& field, LoadContext& ctx);
std::optional<std::string> read_dir_path(const Field& field, LoadContext& ctx);

// read_proxy_protocol: off|v1|v2; a bare YAML `off` (read as false) is off too.
void read_proxy_protocol(const Field& field, Diagnostics& diag, ProxyProtocol* out);

// bind_conflict: "" when |bind| does not collide with the first |listener_count| listeners'
// binds nor with metrics.bind of |config|; else the error message. Two binds collide on the
// same port when their addresses are equal or one is the wildcard (0.0.0.0 or ::) of the
// other's family: with SO_REUSEPORT the kernel would otherwise split connections between
// them silently.
std::string bind_conflict(const Config& config, size_t listener_count, const HostPort& bind);

void read_listeners(const Field& field, LoadContext& ctx, Config* out);
void read_backend(const Field& field, LoadContext& ctx, BackendConfig* out);
void read_redis(const Field& field, Diagnostics& diag, RedisConfig* out);
// read_admin: after listeners and metrics, whose binds admin.bind must not reuse.
void read_admin(const Field& field, const Config& config, LoadContext& ctx, AdminConfig* out);

}  // namespace config
