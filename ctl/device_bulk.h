// ctl/device_bulk.h: many token devices at once, as a load-test fixture (`mqtt-authctl
// device bulk-add`). Not for production provisioning: every device gets the SAME key, and
// its `$7$` hash is computed once and stored in every record, so N devices cost one
// PBKDF2 run and N/batch pipelined round trips instead of N hashes and N transactions.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <vector>

#include "ctl/op_result.h"

namespace ctl {

struct BulkAddRequest {
  size_t count = 0;                // 1 .. kMaxBulkDevices
  std::string id_prefix;           // device IDs are <id_prefix><index>, index 0 .. count-1
  std::string username_prefix;     // usernames are <username_prefix><index>; "" = the ID
  std::optional<std::string> key;  // the shared key; generated when absent
  size_t batch = 1000;             // commands per pipelined batch
};

inline constexpr size_t kMaxBulkDevices = 10'000'000;

// BulkDevice: one line of the device list file the benchmark reads.
struct BulkDevice {
  std::string id;
  std::string username;
};

struct BulkAddResult {
  std::string key;                  // the shared plain key (given or generated)
  std::vector<BulkDevice> devices;  // in index order
};

// device_bulk_add writes count `device:<id>` hashes (auth token, enabled 1, the shared
// secret) with pipelined HSETs, each followed by the usual `changes` PUBLISH. It first
// checks with pipelined EXISTS that none of the IDs is taken and refuses (kAlreadyExists,
// nothing written) otherwise. Not atomic as a whole: a Redis failure midway leaves the
// devices written so far.
OpResult<BulkAddResult> device_bulk_add(OpContext& ctx, const BulkAddRequest& request);

// bulk_device_line: "<id> <username> <key>\n", the device list file format.
std::string bulk_device_line(const BulkDevice& device, const std::string& key);

// write_device_list writes one bulk_device_line per device to |path| with mode 0600 (it
// holds the plain key), creating or truncating it; kIoError when it cannot.
OpResult<Empty> write_device_list(const std::string& path, const BulkAddResult& result);

}  // namespace ctl
