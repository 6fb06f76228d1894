// config/config.cc: the entry points of the loader. Reading YAML never throws out of here:
// yaml-cpp's exceptions become ConfigErrors.
#include "config/config.h"

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "config/sections.h"
#include "config/yaml_reader.h"

namespace config {
namespace {

namespace fs = std::filesystem;

// Reports each referenced file that is missing, not a regular file, or unreadable, and
// each referenced folder that is missing or not a folder.
void check_files(const std::vector<FileReference>& files, Diagnostics& diag) {
  for (const FileReference& file : files) {
    std::error_code ec;
    fs::file_status status = fs::status(file.path, ec);
    if (ec || !fs::exists(status)) {
      diag.error(file.line, file.key, "file not found: " + file.path);
      continue;
    }
    if (file.is_directory) {
      if (!fs::is_directory(status)) diag.error(file.line, file.key, "not a folder: " + file.path);
      continue;
    }
    if (!fs::is_regular_file(status)) {
      diag.error(file.line, file.key, "not a regular file: " + file.path);
      continue;
    }
    std::ifstream in(file.path, std::ios::binary);
    if (!in) {
      diag.error(file.line, file.key,
                 "cannot read " + file.path + ": " + std::strerror(errno));
    }
  }
}

LoadResult load(const std::string& text, const std::string& name, const fs::path& base_dir,
                bool must_check_files) {
  Diagnostics diag(name);
  LoadContext ctx{diag, base_dir, {}};
  Config config;
  config.source = name;
  try {
    YAML::Node root = YAML::Load(text);
    if (root.IsNull()) {
      diag.error(0, "", "the configuration is empty (it needs at least listeners and backend)");
    } else {
      read_config(root, ctx, &config);
      if (must_check_files) check_files(ctx.files, diag);
    }
  } catch (const YAML::Exception& e) {
    int line = e.mark.is_null() ? 0 : e.mark.line + 1;
    diag.error(line, "", "invalid YAML: " + e.msg);
  } catch (const std::exception& e) {
    diag.error(0, "", std::string("cannot be read: ") + e.what());
  }

  LoadResult result;
  result.errors = diag.take_errors();
  result.warnings = diag.take_warnings();
  if (result.errors.empty()) result.config = std::move(config);
  return result;
}

fs::path absolute_dir(const std::string& dir) {
  std::error_code ec;
  fs::path path = dir.empty() ? fs::current_path(ec) : fs::absolute(dir, ec);
  return path.lexically_normal();
}

}  // namespace

std::string HostPort::to_string() const {
  if (host.find(':') != std::string::npos) return "[" + host + "]:" + std::to_string(port);
  return host + ":" + std::to_string(port);
}

std::string ConfigError::to_string() const {
  std::string out = file;
  if (line > 0) out += ":" + std::to_string(line);
  out += ": ";
  if (!key.empty()) out += key + ": ";
  out += message;
  return out;
}

LoadResult load_config_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::error_code ec;
  if (!in || fs::is_directory(path, ec)) {
    LoadResult result;
    std::string reason = in ? "is a directory" : std::strerror(errno);
    result.errors.push_back(ConfigError{path, 0, "", "cannot read the file: " + reason});
    return result;
  }
  std::ostringstream text;
  text << in.rdbuf();
  fs::path dir = fs::path(path).parent_path();
  return load(text.str(), path, absolute_dir(dir.string()), /*must_check_files=*/true);
}

LoadResult load_config_string(const std::string& text, const std::string& name,
                              const std::string& base_dir) {
  return load(text, name, absolute_dir(base_dir), /*must_check_files=*/false);
}

}  // namespace config
