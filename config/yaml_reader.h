// config/yaml_reader.h: internal to config/. Walks yaml-cpp nodes and records every problem
// with its line and dotted key instead of stopping at the first, so one run of
// --check-config shows an operator everything to fix.
#pragma once

#include <yaml-cpp/yaml.h>

#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "config/config.h"
#include "config/values.h"

namespace config {

// line_of: the 1-based line of |node|, or 0 when yaml-cpp has no mark for it.
int line_of(const YAML::Node& node);

class Diagnostics {
 public:
  explicit Diagnostics(std::string file) : file_(std::move(file)) {}

  void error(int line, std::string key, std::string message);
  void warning(int line, std::string key, std::string message);
  bool has_errors() const { return !errors_.empty(); }
  // error_count: errors so far; a reader compares it before and after to learn whether a
  // value it does not return was accepted.
  size_t error_count() const { return errors_.size(); }
  // Both come sorted by line, in the order an operator reads the file.
  std::vector<ConfigError> take_errors();
  std::vector<ConfigError> take_warnings();

 private:
  std::string file_;
  std::vector<ConfigError> errors_;
  std::vector<ConfigError> warnings_;
};

// A value found under a key: the node, its dotted path, the line to blame for a bad value
// (the value's, or the key's when the value is empty, as for "key:" with nothing after it),
// and the key's own line, blamed for what is missing inside the value.
struct Field {
  YAML::Node node;
  std::string path;
  int line = 0;
  int key_line = 0;
};

// MapReader: the entries of one mapping, checked once for unknown and duplicate keys.
class MapReader {
 public:
  // |node| must be a mapping, else an error is recorded against |path| and ok() is false.
  MapReader(const Field& field, Diagnostics& diag, std::initializer_list<std::string_view> known);

  bool ok() const { return ok_; }
  int line() const { return line_; }
  const std::string& path() const { return path_; }
  std::string child_path(std::string_view key) const;

  // get: the value under |key|, or nullopt when absent.
  std::optional<Field> get(std::string_view key) const;
  // require: like get, but records "is required" when absent.
  std::optional<Field> require(std::string_view key) const;

 private:
  struct Entry {
    std::string key;
    Field value;
  };
  Diagnostics& diag_;
  std::string path_;
  int line_ = 0;
  bool ok_ = false;
  std::vector<Entry> entries_;
};

// Typed readers. Each records its own error and returns nullopt on a bad value.
std::optional<std::string> read_string(const Field& field, Diagnostics& diag);
std::optional<std::string> read_nonempty_string(const Field& field, Diagnostics& diag);
std::optional<bool> read_bool(const Field& field, Diagnostics& diag);
std::optional<uint64_t> read_uint_in_range(const Field& field, Diagnostics& diag, uint64_t min,
                                           uint64_t max);
std::optional<uint64_t> read_size_in_range(const Field& field, Diagnostics& diag, uint64_t min,
                                           uint64_t max);
// read_timeout: a duration greater than 0. read_duration: 0 allowed (meaning "off").
std::optional<Duration> read_timeout(const Field& field, Diagnostics& diag);
std::optional<Duration> read_duration(const Field& field, Diagnostics& diag);
// read_decimal_in_range: a non-negative decimal such as "0.5" (see parse_decimal).
std::optional<double> read_decimal_in_range(const Field& field, Diagnostics& diag, double min,
                                            double max);
std::optional<HostPort> read_host_port(const Field& field, Diagnostics& diag, HostKind kind);
std::optional<Template> read_template(const Field& field, Diagnostics& diag);
// read_choice: one of |choices|; returns its index.
std::optional<size_t> read_choice(const Field& field, Diagnostics& diag,
                                  std::initializer_list<std::string_view> choices);
// read_sequence: the items of a list, each with path "path[i]"; records an error when
// |field| is not a list or (with |non_empty|) an empty one.
std::optional<std::vector<Field>> read_sequence(const Field& field, Diagnostics& diag,
                                                bool non_empty);

}  // namespace config
