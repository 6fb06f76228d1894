// ctl/device_ops.h: device records (`device:<id>` hash and its `device:<id>:certs` reverse
// index), shared by mqtt-authctl and the admin API. Every change is published on `changes`
// as `device <id>` inside the same MULTI/EXEC as the write.
#pragma once

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "ctl/op_result.h"

namespace ctl {

using Fields = std::vector<std::pair<std::string, std::string>>;

struct DeviceAddRequest {
  std::string id;
  std::string username;
  std::string auth = "token";      // "token" or "cert"
  std::optional<std::string> key;  // token devices: the key to store (hashed); generated if absent
  Fields labels;                   // extra hash fields (tenant, product, protocol, ...)
};

struct DeviceAddResult {
  // generated_key: the key made up for a token device added without one; empty otherwise.
  // It exists nowhere else — the caller shows it once and forgets it.
  std::string generated_key;
};

// DeviceRecord: a device hash with its secret withheld.
struct DeviceRecord {
  std::string id;
  Fields fields;                   // every field except `secret`, in Redis' order
  bool secret_set = false;         // whether a `secret` field is stored
  std::vector<std::string> certs;  // cert IDs in device:<id>:certs, sorted
};

struct DeviceSummary {
  std::string id;
  std::string username;
  std::string auth;
  bool enabled = true;  // absent `enabled` means enabled
};

// generate_device_key: 128 random bits as 32 lowercase hex characters.
std::string generate_device_key();

// device_add refuses (kAlreadyExists) when the device exists; writes enabled = 1.
OpResult<DeviceAddResult> device_add(OpContext& ctx, const DeviceAddRequest& request);

OpResult<DeviceRecord> device_get(OpContext& ctx, const std::string& id);

// device_list: every device whose ID starts with |id_prefix| (SCAN, sorted by ID).
OpResult<std::vector<DeviceSummary>> device_list(OpContext& ctx, const std::string& id_prefix);

OpResult<Empty> device_set_enabled(OpContext& ctx, const std::string& id, bool enabled);

// device_delete removes the hash, the reverse index and the device from every
// cert:<c>:devices set the index names.
OpResult<Empty> device_delete(OpContext& ctx, const std::string& id);

// device_set_key stores the hash of |key| (or of a generated key, returned) for a token device.
OpResult<DeviceAddResult> device_set_key(OpContext& ctx, const std::string& id,
                                         const std::optional<std::string>& key);

struct DeviceUpdate {
  std::optional<std::string> username;  // new connection username (non-empty)
  Fields set_labels;                    // label fields to write (not reserved names)
  std::vector<std::string> remove_labels;  // label fields to delete (not reserved names)
};

// device_update changes the username and labels of an existing device in one transaction;
// kNotFound when it does not exist, kInvalidArgument for an empty username or a reserved
// label name (username, auth, secret, enabled).
OpResult<Empty> device_update(OpContext& ctx, const std::string& id, const DeviceUpdate& update);

// device_exists_in: the planner-side check shared with the cert operations.
bool device_exists(OpContext& ctx, const std::string& id);

}  // namespace ctl
