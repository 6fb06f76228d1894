// tests/unit/proxy/backend_tls_test.cc: backend.tls in memory. The proxy's client session
// (BackendTlsContext::new_session) against the proxy's own server session (TlsContext), with
// certificates issued by mqtt-authctl's PKI code: names, trust, client certificates, and the
// errors start-up reports for bad files.
#include <gtest/gtest.h>
#include <openssl/ssl.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "ctl/pki.h"
#include "proxy/backend_tls.h"
#include "proxy/tls_context.h"
#include "proxy/tls_session.h"

namespace proxy {
namespace {

using Status = TlsSession::Status;

// The name the server was asked for (SNI), recorded by a servername callback.
std::string* g_sni = nullptr;

int record_sni(SSL* ssl, int*, void*) {
  const char* name = SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name);
  if (g_sni != nullptr) *g_sni = name != nullptr ? name : "";
  return SSL_TLSEXT_ERR_OK;
}

// Moves every pending ciphertext byte from |from| to |to|; true if any moved.
bool pump(TlsSession& from, TlsSession& to) {
  bool moved = false;
  uint8_t buf[4096];
  while (size_t n = from.take_output(buf)) {
    to.feed({buf, n});
    moved = true;
  }
  return moved;
}

struct HandshakeResult {
  Status client = Status::kWantRead;
  Status server = Status::kWantRead;
};

HandshakeResult handshake(TlsSession& client, TlsSession& server) {
  HandshakeResult r;
  for (int round = 0; round < 10; ++round) {
    if (r.client == Status::kWantRead) r.client = client.handshake();
    bool moved = pump(client, server);
    if (r.server == Status::kWantRead) r.server = server.handshake();
    moved |= pump(server, client);
    if (!moved) break;
  }
  return r;
}

class BackendTlsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string pattern = (std::filesystem::temp_directory_path() / "backend-tls-XXXXXX").string();
    ASSERT_NE(mkdtemp(pattern.data()), nullptr);
    dir_ = pattern;
    ASSERT_TRUE(ctl::ca_init(dir_ + "/ca", "broker CA", 2).ok());
    ASSERT_TRUE(ctl::ca_init(dir_ + "/other", "some other CA", 2).ok());
    ASSERT_TRUE(ctl::issue_server_cert(dir_ + "/ca", "broker.test", {"broker.test", "127.0.0.1"},
                                       ctl::KeyType::kEcP256, 2, dir_ + "/server")
                    .ok());
    ASSERT_TRUE(ctl::issue_client_cert(dir_ + "/ca", "proxy", ctl::KeyType::kEcP256, 2,
                                       dir_ + "/clients")
                    .ok());
    g_sni = &sni_;
  }
  void TearDown() override {
    g_sni = nullptr;
    std::error_code ignored;
    std::filesystem::remove_all(dir_, ignored);
  }

  std::string ca() const { return dir_ + "/ca/root_ca.crt"; }
  std::string client_cert() const { return dir_ + "/clients/proxy_certs/proxy.crt"; }
  std::string client_key() const { return dir_ + "/clients/proxy_certs/proxy.key"; }

  // The broker: the proxy's server side with the broker certificate; |want_client_cert|
  // makes it require a certificate from the broker CA, as mosquitto's require_certificate.
  std::shared_ptr<const TlsContext> broker(bool want_client_cert) {
    listener_.name = "broker";
    listener_.auth = want_client_cert ? auth::AuthMethod::kCert : auth::AuthMethod::kToken;
    listener_.tls.cert_file = dir_ + "/server/server.crt";
    listener_.tls.key_file = dir_ + "/server/server.key";
    listener_.tls.client_ca_file = ca();
    std::string error;
    auto context = TlsContext::create(listener_, &error);
    EXPECT_NE(context, nullptr) << error;
    if (context) SSL_CTX_set_tlsext_servername_callback(context->ctx(), record_sni);
    return context;
  }

  std::shared_ptr<const BackendTlsContext> proxy_side(config::BackendTls tls) {
    tls.enabled = true;
    if (tls.ca_file.empty()) tls.ca_file = ca();
    std::string error;
    auto context = BackendTlsContext::create(tls, &error);
    EXPECT_NE(context, nullptr) << error;
    return context;
  }

  std::string dir_;
  std::string sni_ = "(none)";
  config::ListenerConfig listener_;
  auth::PeerCertificate peer_;
};

TEST(BackendPeerName, ServerNameWinsOverHostAndIpLiteralsAreIps) {
  EXPECT_EQ(backend_peer_name("", "emqx1.internal").name, "emqx1.internal");
  EXPECT_FALSE(backend_peer_name("", "emqx1.internal").is_ip);
  EXPECT_EQ(backend_peer_name("broker.internal", "10.0.0.5").name, "broker.internal");
  EXPECT_FALSE(backend_peer_name("broker.internal", "10.0.0.5").is_ip);
  EXPECT_TRUE(backend_peer_name("", "10.0.0.5").is_ip);
  EXPECT_TRUE(backend_peer_name("", "::1").is_ip);
  EXPECT_TRUE(backend_peer_name("fd00::5", "emqx1").is_ip);
  EXPECT_FALSE(backend_peer_name("", "10.0.0.5.example").is_ip);
}

TEST_F(BackendTlsTest, VerifiesTheHostIpWithoutSniAndRelaysBothWays) {
  auto server_context = broker(false);
  auto client_context = proxy_side({});
  ASSERT_TRUE(server_context && client_context);
  TlsSession server(*server_context, &peer_);
  std::unique_ptr<TlsSession> client = client_context->new_session("127.0.0.1");
  ASSERT_NE(client, nullptr);
  HandshakeResult r = handshake(*client, server);
  ASSERT_EQ(r.client, Status::kOk) << client->error_reason() << " " << client->error_detail();
  ASSERT_EQ(r.server, Status::kOk) << server.error_reason();
  EXPECT_EQ(sni_, "");  // no SNI for an IP address

  const std::string connect = "\x10\x0c\x00\x04MQTT\x04\x02\x00\x3c\x00\x00";
  ASSERT_TRUE(client->write({reinterpret_cast<const uint8_t*>(connect.data()), connect.size()}));
  pump(*client, server);
  uint8_t buf[256];
  size_t got = 0;
  ASSERT_EQ(server.read(buf, &got), Status::kOk);
  EXPECT_EQ(std::string(reinterpret_cast<char*>(buf), got), connect);

  const uint8_t connack[] = {0x20, 0x02, 0x00, 0x00};
  ASSERT_TRUE(server.write(connack));
  pump(server, *client);
  // TLS 1.3 session tickets may come first: read until the application bytes.
  Status status = Status::kWantRead;
  for (int i = 0; i < 4 && got != sizeof connack; ++i) status = client->read(buf, &got);
  ASSERT_EQ(status, Status::kOk);
  EXPECT_EQ(std::basic_string<uint8_t>(buf, got), std::basic_string<uint8_t>(connack, sizeof connack));
}

TEST_F(BackendTlsTest, ServerNameIsSentAsSniAndVerified) {
  auto server_context = broker(false);
  config::BackendTls tls;
  tls.server_name = "broker.test";
  auto client_context = proxy_side(tls);
  ASSERT_TRUE(server_context && client_context);
  TlsSession server(*server_context, &peer_);
  std::unique_ptr<TlsSession> client = client_context->new_session("127.0.0.1");
  ASSERT_NE(client, nullptr);
  HandshakeResult r = handshake(*client, server);
  EXPECT_EQ(r.client, Status::kOk) << client->error_reason() << " " << client->error_detail();
  EXPECT_EQ(r.server, Status::kOk);
  EXPECT_EQ(sni_, "broker.test");
}

TEST_F(BackendTlsTest, WrongNameFailsUnlessVerifyIsOff) {
  auto server_context = broker(false);
  ASSERT_TRUE(server_context);
  for (auto [host, detail] : {std::pair{"wrong.test", "Hostname mismatch"},
                              std::pair{"10.9.9.9", "IP address mismatch"}}) {
    SCOPED_TRACE(host);
    config::BackendTls tls;
    auto client_context = proxy_side(tls);
    ASSERT_TRUE(client_context);
    TlsSession server(*server_context, &peer_);
    std::unique_ptr<TlsSession> client = client_context->new_session(host);
    HandshakeResult r = handshake(*client, server);
    EXPECT_EQ(r.client, Status::kError);
    EXPECT_EQ(client->error_reason(), "certificate_verify_failed");
    EXPECT_STREQ(client->error_detail(), detail);
    EXPECT_NE(r.server, Status::kOk);

    tls.verify = false;
    auto unchecked = proxy_side(tls);
    TlsSession server2(*server_context, &peer_);
    std::unique_ptr<TlsSession> client2 = unchecked->new_session(host);
    r = handshake(*client2, server2);
    EXPECT_EQ(r.client, Status::kOk);
    EXPECT_EQ(r.server, Status::kOk);
  }
}

TEST_F(BackendTlsTest, BrokerFromAnotherCaFails) {
  auto server_context = broker(false);
  config::BackendTls tls;
  tls.ca_file = dir_ + "/other/root_ca.crt";
  auto client_context = proxy_side(tls);
  ASSERT_TRUE(server_context && client_context);
  TlsSession server(*server_context, &peer_);
  std::unique_ptr<TlsSession> client = client_context->new_session("127.0.0.1");
  HandshakeResult r = handshake(*client, server);
  EXPECT_EQ(r.client, Status::kError);
  EXPECT_EQ(client->error_reason(), "certificate_verify_failed");
  EXPECT_STREQ(client->error_detail(), "unable to get local issuer certificate");
}

TEST_F(BackendTlsTest, ClientCertificateIsPresentedWhenConfigured) {
  auto server_context = broker(true);
  config::BackendTls tls;
  tls.cert_file = client_cert();
  tls.key_file = client_key();
  auto client_context = proxy_side(tls);
  ASSERT_TRUE(server_context && client_context);
  TlsSession server(*server_context, &peer_);
  std::unique_ptr<TlsSession> client = client_context->new_session("127.0.0.1");
  HandshakeResult r = handshake(*client, server);
  EXPECT_EQ(r.client, Status::kOk);
  EXPECT_EQ(r.server, Status::kOk) << server.error_reason();
  EXPECT_EQ(peer_.cn.size(), 32u);  // issue_client_cert's random hex CN
}

TEST_F(BackendTlsTest, MissingClientCertificateIsReportedAfterTheTls13Handshake) {
  auto server_context = broker(true);
  auto client_context = proxy_side({});
  ASSERT_TRUE(server_context && client_context);
  TlsSession server(*server_context, &peer_);
  std::unique_ptr<TlsSession> client = client_context->new_session("127.0.0.1");
  HandshakeResult r = handshake(*client, server);
  // The client is done before the server has seen its (empty) certificate: the refusal
  // arrives as an alert on the first read, which is why the connection handles TLS errors
  // before the broker's CONNACK as a failed backend.
  EXPECT_EQ(r.client, Status::kOk);
  EXPECT_EQ(r.server, Status::kError);
  EXPECT_EQ(server.error_reason(), "no_client_certificate");
  uint8_t buf[64];
  size_t got = 0;
  EXPECT_EQ(client->read(buf, &got), Status::kError);
  EXPECT_STREQ(client->error_detail(), "TLSV1_ALERT_CERTIFICATE_REQUIRED");
}

// read_records: many small records come out as one batch, in order; a batch stops when the
// next record might not fit, and the rest comes with the next call.
TEST_F(BackendTlsTest, ReadRecordsGathersRecordsWhileAWholeOneFits) {
  auto server_context = broker(false);
  auto client_context = proxy_side({});
  ASSERT_TRUE(server_context && client_context);
  TlsSession server(*server_context, &peer_);
  std::unique_ptr<TlsSession> client = client_context->new_session("127.0.0.1");
  ASSERT_NE(client, nullptr);
  HandshakeResult r = handshake(*client, server);
  ASSERT_EQ(r.client, Status::kOk);
  ASSERT_EQ(r.server, Status::kOk);

  std::string expected;
  for (int i = 0; i < 50; ++i) {  // one SSL_write, one record each
    std::string packet = "\x30\x06\x00\x01t" + std::to_string(100 + i);
    ASSERT_TRUE(client->write({reinterpret_cast<const uint8_t*>(packet.data()), packet.size()}));
    expected += packet;
  }
  pump(*client, server);
  std::vector<uint8_t> out(4 * TlsSession::kMaxRecordPlaintext);
  size_t got = 0;
  EXPECT_EQ(server.read_records(out, &got), Status::kWantRead);
  EXPECT_EQ(std::string(reinterpret_cast<char*>(out.data()), got), expected);

  // Three full records into room for two: two now (kOk: more may wait), the third next.
  std::string big(3 * TlsSession::kMaxRecordPlaintext, 'x');
  for (size_t i = 0; i < big.size(); ++i) big[i] = static_cast<char>('a' + i % 26);
  ASSERT_TRUE(client->write({reinterpret_cast<const uint8_t*>(big.data()), big.size()}));
  pump(*client, server);
  std::vector<uint8_t> two(2 * TlsSession::kMaxRecordPlaintext);
  EXPECT_EQ(server.read_records(two, &got), Status::kOk);
  ASSERT_EQ(got, two.size());
  std::string received(reinterpret_cast<char*>(two.data()), got);
  EXPECT_EQ(server.read_records(two, &got), Status::kWantRead);
  received.append(reinterpret_cast<char*>(two.data()), got);
  EXPECT_EQ(received, big);
}

TEST_F(BackendTlsTest, CreateNamesTheBadFile) {
  std::string error;
  config::BackendTls tls;
  tls.enabled = true;
  tls.ca_file = dir_ + "/missing.crt";
  EXPECT_EQ(BackendTlsContext::create(tls, &error), nullptr);
  EXPECT_EQ(error.rfind(tls.ca_file + ": ", 0), 0u) << error;

  std::ofstream(dir_ + "/empty.crt") << "not a certificate\n";
  tls.ca_file = dir_ + "/empty.crt";
  error.clear();
  EXPECT_EQ(BackendTlsContext::create(tls, &error), nullptr);
  EXPECT_EQ(error.rfind(tls.ca_file + ": ", 0), 0u) << error;

  tls.ca_file = ca();
  tls.cert_file = client_cert();
  tls.key_file = dir_ + "/server/server.key";  // someone else's key
  error.clear();
  EXPECT_EQ(BackendTlsContext::create(tls, &error), nullptr);
  EXPECT_EQ(error, tls.key_file + ": key does not match " + tls.cert_file);

  tls.key_file = dir_ + "/missing.key";
  error.clear();
  EXPECT_EQ(BackendTlsContext::create(tls, &error), nullptr);
  EXPECT_EQ(error.rfind(tls.key_file + ": ", 0), 0u) << error;
}

}  // namespace
}  // namespace proxy
