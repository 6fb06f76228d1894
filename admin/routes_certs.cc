// admin/routes_certs.cc: /api/certs — list, get, create (bundle zip returned once), import,
// enable/disable, bind/unbind, delete.
#include "admin/json_body.h"
#include "admin/routes.h"
#include "admin/zip_writer.h"
#include "ctl/cert_ops.h"
#include "ctl/json_out.h"
#include "ctl/pki.h"

namespace admin {
namespace {

constexpr size_t kMaxBindDevices = 1000;
constexpr size_t kMaxPem = 32 * 1024;

HttpResponse list_certs(ctl::OpContext& ctx) {
  auto listed = ctl::cert_list(ctx);
  if (!listed.ok()) return op_error(listed.status, listed.message);
  ctl::JsonWriter json;
  json.begin_object().key("certs").begin_array();
  for (const auto& cert : listed.value) {
    json.begin_object()
        .field("id", cert.cert_id)
        .field("name", cert.name)
        .field("enabled", cert.enabled)
        .field("cn", cert.cn)
        .field("not_after", cert.not_after)
        .field("device_count", static_cast<int64_t>(cert.device_count))
        .end_object();
  }
  json.end_array().end_object();
  return json_response(200, json.str());
}

HttpResponse get_cert(ctl::OpContext& ctx, const std::string& ref, unsigned status = 200) {
  auto cert = ctl::cert_get(ctx, ref);
  if (!cert.ok()) return op_error(cert.status, cert.message);
  ctl::JsonWriter json;
  json.begin_object().field("id", cert.value.cert_id);
  for (const auto& [name, value] : cert.value.fields) {
    if (name == "enabled") {
      json.field("enabled", value != "0");
    } else if (name != "id" && name != "devices") {
      json.field(name, value);
    }
  }
  json.key("devices").begin_array();
  for (const auto& device : cert.value.devices) json.string(device);
  json.end_array().end_object();
  return json_response(status, json.str());
}

// create_cert issues a key and certificate in memory, registers the certificate, and
// returns NAME_certs/{NAME.crt, NAME.key, root_ca.crt} as a zip. The key exists only in
// this response.
HttpResponse create_cert(const AdminSettings& settings, ctl::OpContext& ctx,
                         const HttpRequest& request) {
  JsonBody body(request.body);
  auto name = body.string("name", true, 128);
  if (name && !ctl::valid_file_name(*name)) {
    body.fail("name may hold only A-Z a-z 0-9 . _ - and must not start with a dot", "name");
  }
  auto enabled = body.boolean("enabled", false);
  auto key_type = body.string("key", false, 16);
  if (key_type && *key_type != "ec" && *key_type != "rsa2048") {
    body.fail("key must be ec or rsa2048", "key");
  }
  auto days = body.integer("days", false, 1, 3650);
  if (!body.ok()) return body.error();
  if (settings.ca_dir.empty()) {
    return error_response(409, "admin.ca_dir is not configured: certificates can only be imported");
  }
  auto issued = ctl::issue_client_cert_pem(
      settings.ca_dir, key_type && *key_type == "rsa2048" ? ctl::KeyType::kRsa2048 : ctl::KeyType::kEcP256,
      static_cast<int>(days.value_or(ctl::kClientDays)));
  if (!issued.ok()) return error_response(500, "cannot issue the certificate: " + issued.message);

  ctl::CertRegistration registration;
  registration.cert_id = issued.value.identity.cert_id;
  registration.name = *name;
  registration.enabled = enabled.value_or(true);
  registration.cn = issued.value.identity.cn;
  registration.not_after = issued.value.identity.not_after;
  auto registered = ctl::cert_register(ctx, registration);
  if (!registered.ok()) return op_error(registered.status, registered.message);

  ZipWriter zip;
  const std::string folder = *name + "_certs/";
  zip.add_file(folder + *name + ".crt", issued.value.cert_pem);
  zip.add_file(folder + *name + ".key", issued.value.key_pem, 0600);
  zip.add_file(folder + "root_ca.crt", issued.value.ca_pem);
  HttpResponse response;
  response.status = 201;
  response.content_type = "application/zip";
  response.body = zip.finish();
  response.headers.emplace_back("Content-Disposition",
                                "attachment; filename=\"" + *name + "_certs.zip\"");
  response.headers.emplace_back("Cache-Control", "no-store");
  response.headers.emplace_back("X-Cert-Id", registration.cert_id);
  return response;
}

HttpResponse import_cert(ctl::OpContext& ctx, const HttpRequest& request) {
  JsonBody body(request.body);
  auto name = body.string("name", true, 256);
  if (name && !ctl::valid_record_id(*name)) body.fail("invalid certificate name", "name");
  auto pem = body.string("pem", true, kMaxPem);
  auto enabled = body.boolean("enabled", false);
  if (!body.ok()) return body.error();
  auto identity = ctl::identify_cert_pem(*pem);
  if (!identity.ok()) return error_response(400, "pem holds no PEM certificate", "pem");
  ctl::CertRegistration registration;
  registration.cert_id = identity.value.cert_id;
  registration.name = *name;
  registration.enabled = enabled.value_or(true);
  registration.cn = identity.value.cn;
  registration.not_after = identity.value.not_after;
  auto registered = ctl::cert_register(ctx, registration);
  if (!registered.ok()) return op_error(registered.status, registered.message);
  return get_cert(ctx, registration.cert_id, 201);
}

HttpResponse bind_or_unbind(ctl::OpContext& ctx, const std::string& ref,
                            const HttpRequest& request, bool bind) {
  JsonBody body(request.body);
  auto devices = body.id_list("devices", kMaxBindDevices);
  if (!body.ok()) return body.error();
  auto done = bind ? ctl::cert_bind(ctx, ref, *devices) : ctl::cert_unbind(ctx, ref, *devices);
  if (!done.ok()) return op_error(done.status, done.message);
  return get_cert(ctx, ref);
}

}  // namespace

HttpResponse route_certs(const AdminSettings& settings, const HttpRequest& request) {
  const auto& segments = request.segments;
  const std::string& method = request.method;
  if (segments.size() > 4) return error_response(404, "no such endpoint");
  const bool import = segments.size() == 3 && segments[2] == "import";
  if (segments.size() >= 3 && !import && !ctl::valid_record_id(segments[2])) {
    return error_response(400, "invalid certificate ID", "id");
  }
  if (segments.size() == 4 && segments[3] != "bind" && segments[3] != "unbind") {
    return error_response(404, "no such endpoint");
  }
  RedisSession redis = open_redis(settings);
  if (!redis.client) return error_response(503, "redis unavailable: " + redis.error);
  ctl::OpContext ctx{*redis.client, auth::RedisKeys(settings.key_prefix)};

  if (segments.size() == 2) {
    if (method == "GET") return list_certs(ctx);
    if (method == "POST") return create_cert(settings, ctx, request);
    return method_not_allowed();
  }
  if (import) return method == "POST" ? import_cert(ctx, request) : method_not_allowed();
  const std::string& ref = segments[2];
  if (segments.size() == 4) {
    if (method != "POST") return method_not_allowed();
    return bind_or_unbind(ctx, ref, request, segments[3] == "bind");
  }
  if (method == "GET") return get_cert(ctx, ref);
  if (method == "PATCH") {
    JsonBody body(request.body);
    auto enabled = body.boolean("enabled", true);
    if (!body.ok()) return body.error();
    auto changed = ctl::cert_set_enabled(ctx, ref, *enabled);
    if (!changed.ok()) return op_error(changed.status, changed.message);
    return get_cert(ctx, ref);
  }
  if (method == "DELETE") {
    auto deleted = ctl::cert_delete(ctx, ref);
    if (!deleted.ok()) return op_error(deleted.status, deleted.message);
    return json_response(200, "{\"deleted\":true}");
  }
  return method_not_allowed();
}

}  // namespace admin
