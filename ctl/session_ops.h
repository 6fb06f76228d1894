// ctl/session_ops.h: live sessions (`session:<device_id>`, written by the proxy) and kicks.
#pragma once

#include <string>
#include <vector>

#include "ctl/device_ops.h"
#include "ctl/op_result.h"

namespace ctl {

struct SessionRecord {
  std::string device_id;
  Fields fields;  // node, listener, peer, connected_at, cert_id (as the proxy wrote them)
};

// session_list: every session (SCAN), or only |device_id|'s when it is not empty (then an
// absent session is an empty list, not an error). Sorted by device ID.
OpResult<std::vector<SessionRecord>> session_list(OpContext& ctx, const std::string& device_id);

// kick publishes `kick <device_id>` on `changes`; the value is how many subscribers got it.
OpResult<long long> kick_device(OpContext& ctx, const std::string& device_id);

}  // namespace ctl
