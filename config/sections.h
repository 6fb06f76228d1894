// config/sections.h: internal to config/. Translates the YAML document into Config, one
// function per top-level section, recording every problem in the Diagnostics.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "config/config.h"
#include "config/yaml_reader.h"

namespace config {

// A file the config refers to (TLS material), already resolved to an absolute path, with
// where it was named so a missing file can be reported on the right line.
struct FileReference {
  std::string path;
  std::string key;
  int line = 0;
};

struct LoadContext {
  Diagnostics& diag;
  std::filesystem::path base_dir;   // absolute; relative file names are resolved against it
  std::vector<FileReference> files;
};

// read_config: fills |out| from |root| (the document). |out| is meaningful only when
// ctx.diag has no errors afterwards.
void read_config(const YAML::Node& root, LoadContext& ctx, Config* out);

}  // namespace config
