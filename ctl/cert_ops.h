// ctl/cert_ops.h: certificate records (`cert:<cert_id>` hash, `cert:<cert_id>:devices` set)
// and their bindings to devices, kept in step with `device:<id>:certs`. Every change is
// published on `changes` (`cert <cert_id>`; bind/unbind also `device <id>` per device).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "ctl/device_ops.h"
#include "ctl/op_result.h"

namespace ctl {

struct CertRegistration {
  std::string cert_id;  // lowercase hex SHA-256 of the leaf DER
  std::string name;
  bool enabled = true;
  std::string cn;
  int64_t not_after = 0;  // unix seconds
};

struct CertRecord {
  std::string cert_id;
  Fields fields;                     // name, enabled, cn, not_after, created_at, ...
  std::vector<std::string> devices;  // bound device IDs, sorted
};

struct CertSummary {
  std::string cert_id;
  std::string name;
  bool enabled = true;
  std::string cn;
  std::string not_after;
  long long device_count = 0;
};

// cert_register writes a new record with created_at = now. Refuses (kAlreadyExists) when the
// cert_id is registered or another certificate already has that name. The name check is a
// SCAN before the transaction, so two concurrent registrations of one name can both succeed;
// resolve_cert then reports the name as ambiguous (kRefused) and the cert_id still works.
OpResult<Empty> cert_register(OpContext& ctx, const CertRegistration& registration);

// resolve_cert: |ref| is a registered cert_id, or else the name of exactly one certificate.
OpResult<std::string> resolve_cert(OpContext& ctx, const std::string& ref);

// The following take a cert reference as resolve_cert does.
OpResult<CertRecord> cert_get(OpContext& ctx, const std::string& ref);
OpResult<std::vector<CertSummary>> cert_list(OpContext& ctx);
OpResult<Empty> cert_set_enabled(OpContext& ctx, const std::string& ref, bool enabled);
// cert_delete refuses (kRefused) while any device is bound.
OpResult<Empty> cert_delete(OpContext& ctx, const std::string& ref);
// cert_bind refuses (kNotFound) when any of |device_ids| does not exist; binds all or none.
OpResult<Empty> cert_bind(OpContext& ctx, const std::string& ref,
                          const std::vector<std::string>& device_ids);
// cert_unbind removes the bindings that exist; unknown devices are not an error.
OpResult<Empty> cert_unbind(OpContext& ctx, const std::string& ref,
                            const std::vector<std::string>& device_ids);

}  // namespace ctl
