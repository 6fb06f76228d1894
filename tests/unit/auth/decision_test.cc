// Tests of auth/decision.h: the CONNACK table of DESIGN.md row by row for 3.1, 3.1.1 and 5,
// precheck and decide on both listeners, their order rules, DeviceRecord defaults.
#include "auth/decision.h"

#include <gtest/gtest.h>

#include <set>
#include <string>
#include <vector>

namespace auth {
namespace {

using mqttparse::ProtocolVersion;

constexpr int64_t kNow = 1'800'000'000;

struct ConnackRow {
  Reason reason;
  uint8_t v3;  // 3.1 and 3.1.1
  uint8_t v5;
};

// DESIGN.md "CONNACK on refusal", one row per refusal reason.
const std::vector<ConnackRow> kConnackTable = {
    {Reason::kUnknownDevice, 4, 0x86},      {Reason::kBadSecret, 4, 0x86},
    {Reason::kUsernameMismatch, 4, 0x86},   {Reason::kNoPassword, 4, 0x86},
    {Reason::kWrongAuthType, 4, 0x86},      {Reason::kUnsupportedSecret, 4, 0x86},
    {Reason::kDeviceDisabled, 5, 0x87},     {Reason::kCertDisabled, 5, 0x87},
    {Reason::kCertUnknown, 5, 0x87},        {Reason::kCertNotBound, 5, 0x87},
    {Reason::kCertExpired, 5, 0x87},        {Reason::kBanned, 5, 0x8A},
    {Reason::kEmptyClientId, 2, 0x85},      {Reason::kUnsupportedProtocol, 1, 0x84},
    {Reason::kEnhancedAuth, 4, 0x8C},       {Reason::kStoreUnavailable, 3, 0x88},
    {Reason::kBackendUnavailable, 3, 0x88}, {Reason::kTopicPolicy, 5, 0x87},
};

TEST(AuthConnackTest, EveryRefusalMapsPerVersion) {
  for (const ConnackRow& row : kConnackTable) {
    SCOPED_TRACE(std::string(reason_name(row.reason)));
    EXPECT_EQ(connack_code(row.reason, ProtocolVersion::kV31), row.v3);
    EXPECT_EQ(connack_code(row.reason, ProtocolVersion::kV311), row.v3);
    EXPECT_EQ(connack_code(row.reason, ProtocolVersion::kV5), row.v5);
  }
}

TEST(AuthConnackTest, TableCoversEveryRefusalReason) {
  // kBackendUnavailable is the last enumerator; kAccepted (0) is not a refusal.
  EXPECT_EQ(kConnackTable.size(), static_cast<size_t>(Reason::kBackendUnavailable));
  std::set<Reason> seen;
  for (const ConnackRow& row : kConnackTable) seen.insert(row.reason);
  EXPECT_EQ(seen.size(), kConnackTable.size());
}

TEST(AuthConnackTest, RefusalNeverMapsToSuccess) {
  for (const ConnackRow& row : kConnackTable) {
    EXPECT_NE(connack_code(row.reason, ProtocolVersion::kV311), 0);
    EXPECT_NE(connack_code(row.reason, ProtocolVersion::kV5), 0);
  }
}

TEST(AuthReasonNameTest, NamesAreStableAndDistinct) {
  EXPECT_EQ(reason_name(Reason::kAccepted), "accepted");
  EXPECT_EQ(reason_name(Reason::kBadSecret), "bad_secret");
  EXPECT_EQ(reason_name(Reason::kUnknownDevice), "unknown_device");
  EXPECT_EQ(reason_name(Reason::kCertNotBound), "cert_not_bound");
  EXPECT_EQ(reason_name(Reason::kStoreUnavailable), "store_unavailable");
  std::set<std::string_view> names{reason_name(Reason::kAccepted)};
  for (const ConnackRow& row : kConnackTable) {
    std::string_view name = reason_name(row.reason);
    EXPECT_FALSE(name.empty());
    for (char c : name) EXPECT_TRUE((c >= 'a' && c <= 'z') || c == '_') << name;
    names.insert(name);
  }
  EXPECT_EQ(names.size(), kConnackTable.size() + 1);
}

// ---- DeviceRecord ----

DeviceRecord device(std::map<std::string, std::string> fields) {
  return DeviceRecord{true, std::move(fields)};
}

TEST(AuthDeviceRecordTest, Defaults) {
  DeviceRecord empty = device({});
  EXPECT_TRUE(empty.enabled());  // enabled absent = enabled
  EXPECT_EQ(empty.username(), "");
  EXPECT_EQ(empty.secret(), "");
  EXPECT_FALSE(empty.auth().has_value());
}

TEST(AuthDeviceRecordTest, Fields) {
  DeviceRecord record =
      device({{"username", "u1"}, {"auth", "token"}, {"secret", "$7$x"}, {"enabled", "1"}});
  EXPECT_EQ(record.username(), "u1");
  EXPECT_EQ(record.auth(), AuthMethod::kToken);
  EXPECT_EQ(record.secret(), "$7$x");
  EXPECT_TRUE(record.enabled());
  EXPECT_EQ(device({{"auth", "cert"}}).auth(), AuthMethod::kCert);
}

TEST(AuthDeviceRecordTest, EnabledFailsClosed) {
  EXPECT_FALSE(device({{"enabled", "0"}}).enabled());
  EXPECT_FALSE(device({{"enabled", ""}}).enabled());
  EXPECT_FALSE(device({{"enabled", "yes"}}).enabled());
}

TEST(AuthDeviceRecordTest, InvalidAuthIsNullopt) {
  EXPECT_FALSE(device({{"auth", "Token"}}).auth().has_value());
  EXPECT_FALSE(device({{"auth", ""}}).auth().has_value());
  EXPECT_FALSE(device({{"auth", "password"}}).auth().has_value());
}

// ---- precheck ----

ConnectFacts token_facts(ProtocolVersion version = ProtocolVersion::kV311) {
  ConnectFacts facts;
  facts.listener_auth = AuthMethod::kToken;
  facts.version = version;
  facts.client_id = "dev1";
  facts.username = "user1";
  facts.has_password = true;
  return facts;
}

ConnectFacts cert_facts(const PeerCertificate* peer,
                        ProtocolVersion version = ProtocolVersion::kV311) {
  ConnectFacts facts;
  facts.listener_auth = AuthMethod::kCert;
  facts.version = version;
  facts.client_id = "dev1";
  facts.username = "user1";
  facts.peer_cert = peer;
  return facts;
}

const std::vector<ProtocolVersion> kVersions = {ProtocolVersion::kV31, ProtocolVersion::kV311,
                                                ProtocolVersion::kV5};

TEST(AuthPrecheckTest, AcceptsWellFormedOnBothListeners) {
  PeerCertificate peer{"abc", "dev1", kNow + 100};
  for (ProtocolVersion v : kVersions) {
    EXPECT_EQ(precheck(token_facts(v)), Reason::kAccepted);
    EXPECT_EQ(precheck(cert_facts(&peer, v)), Reason::kAccepted);
  }
}

TEST(AuthPrecheckTest, EnhancedAuthOnlyInV5) {
  ConnectFacts facts = token_facts(ProtocolVersion::kV5);
  facts.has_authentication_method = true;
  EXPECT_EQ(precheck(facts), Reason::kEnhancedAuth);
  EXPECT_EQ(connack_code(precheck(facts), ProtocolVersion::kV5), 0x8C);
  // A 3.x CONNECT cannot carry properties: the flag means nothing there.
  facts.version = ProtocolVersion::kV311;
  EXPECT_EQ(precheck(facts), Reason::kAccepted);
}

TEST(AuthPrecheckTest, EmptyClientId) {
  for (ProtocolVersion v : kVersions) {
    ConnectFacts facts = token_facts(v);
    facts.client_id = "";
    EXPECT_EQ(precheck(facts), Reason::kEmptyClientId);
    PeerCertificate peer{"abc", "dev1", kNow + 100};
    ConnectFacts cert = cert_facts(&peer, v);
    cert.client_id = "";
    EXPECT_EQ(precheck(cert), Reason::kEmptyClientId);
  }
}

TEST(AuthPrecheckTest, NoPasswordOnTokenListener) {
  ConnectFacts facts = token_facts();
  facts.has_password = false;
  EXPECT_EQ(precheck(facts), Reason::kNoPassword);
}

TEST(AuthPrecheckTest, CertListenerAllowsAndIgnoresPassword) {
  PeerCertificate peer{"abc", "dev1", kNow + 100};
  ConnectFacts facts = cert_facts(&peer);
  facts.has_password = true;
  EXPECT_EQ(precheck(facts), Reason::kAccepted);
  facts.has_password = false;
  EXPECT_EQ(precheck(facts), Reason::kAccepted);
}

TEST(AuthPrecheckTest, NoUsernameIsLeftToDecide) {
  ConnectFacts facts = token_facts();
  facts.username.reset();
  EXPECT_EQ(precheck(facts), Reason::kAccepted);
}

TEST(AuthPrecheckTest, OrderEnhancedAuthThenClientIdThenPassword) {
  ConnectFacts facts = token_facts(ProtocolVersion::kV5);
  facts.has_authentication_method = true;
  facts.client_id = "";
  facts.has_password = false;
  EXPECT_EQ(precheck(facts), Reason::kEnhancedAuth);
  facts.has_authentication_method = false;
  EXPECT_EQ(precheck(facts), Reason::kEmptyClientId);
  facts.client_id = "dev1";
  EXPECT_EQ(precheck(facts), Reason::kNoPassword);
}

// ---- decide, token listener ----

DeviceRecord token_device() {
  return device({{"username", "user1"}, {"auth", "token"}, {"secret", "$7$101$s$h"}});
}

DeviceRecord cert_device() { return device({{"username", "user1"}, {"auth", "cert"}}); }

CertRecord good_cert() { return CertRecord{true, true, kNow + 1000, true}; }

void expect_refused(const Decision& decision, Reason reason) {
  EXPECT_EQ(decision.verdict, Verdict::kRefuse);
  EXPECT_EQ(decision.reason, reason) << reason_name(decision.reason);
}

TEST(AuthDecideTokenTest, KnownDeviceNeedsSecretVerification) {
  for (ProtocolVersion v : kVersions) {
    Decision decision = decide(token_facts(v), token_device(), nullptr, kNow);
    EXPECT_EQ(decision.verdict, Verdict::kVerifySecret);
    EXPECT_EQ(decision.reason, Reason::kAccepted);
  }
}

TEST(AuthDecideTokenTest, UnknownDevice) {
  expect_refused(decide(token_facts(), DeviceRecord{}, nullptr, kNow), Reason::kUnknownDevice);
}

TEST(AuthDecideTokenTest, CertDeviceOnTokenListener) {
  expect_refused(decide(token_facts(), cert_device(), nullptr, kNow), Reason::kWrongAuthType);
}

TEST(AuthDecideTokenTest, MissingOrInvalidAuthFieldIsWrongAuthType) {
  DeviceRecord missing = device({{"username", "user1"}, {"secret", "x"}});
  expect_refused(decide(token_facts(), missing, nullptr, kNow), Reason::kWrongAuthType);
  DeviceRecord invalid = device({{"username", "user1"}, {"auth", "both"}, {"secret", "x"}});
  expect_refused(decide(token_facts(), invalid, nullptr, kNow), Reason::kWrongAuthType);
}

TEST(AuthDecideTokenTest, DisabledDevice) {
  DeviceRecord record = token_device();
  record.fields["enabled"] = "0";
  expect_refused(decide(token_facts(), record, nullptr, kNow), Reason::kDeviceDisabled);
  record.fields["enabled"] = "1";
  EXPECT_EQ(decide(token_facts(), record, nullptr, kNow).verdict, Verdict::kVerifySecret);
}

TEST(AuthDecideTokenTest, UsernameMismatch) {
  ConnectFacts facts = token_facts();
  facts.username = "user2";
  expect_refused(decide(facts, token_device(), nullptr, kNow), Reason::kUsernameMismatch);
  facts.username = "";
  expect_refused(decide(facts, token_device(), nullptr, kNow), Reason::kUsernameMismatch);
  facts.username = "User1";
  expect_refused(decide(facts, token_device(), nullptr, kNow), Reason::kUsernameMismatch);
}

TEST(AuthDecideTokenTest, AbsentUsername) {
  ConnectFacts facts = token_facts();
  facts.username.reset();
  expect_refused(decide(facts, token_device(), nullptr, kNow), Reason::kUsernameMismatch);
}

TEST(AuthDecideTokenTest, DeviceWithoutUsernameMatchesNobody) {
  DeviceRecord record = device({{"auth", "token"}, {"secret", "x"}});
  ConnectFacts facts = token_facts();
  facts.username = "";
  expect_refused(decide(facts, record, nullptr, kNow), Reason::kUsernameMismatch);
}

TEST(AuthDecideTokenTest, EmptySecretIsUnsupported) {
  DeviceRecord record = token_device();
  record.fields.erase("secret");
  expect_refused(decide(token_facts(), record, nullptr, kNow), Reason::kUnsupportedSecret);
  record.fields["secret"] = "";
  expect_refused(decide(token_facts(), record, nullptr, kNow), Reason::kUnsupportedSecret);
}

TEST(AuthDecideTokenTest, CertRecordIgnored) {
  CertRecord cert{};  // not found: irrelevant on a token listener
  EXPECT_EQ(decide(token_facts(), token_device(), &cert, kNow).verdict, Verdict::kVerifySecret);
}

TEST(AuthDecideTokenTest, OrderAuthTypeBeforeEnabledBeforeUsernameBeforeSecret) {
  ConnectFacts facts = token_facts();
  facts.username = "wrong";
  DeviceRecord record = device({{"username", "user1"}, {"auth", "cert"}, {"enabled", "0"}});
  expect_refused(decide(facts, record, nullptr, kNow), Reason::kWrongAuthType);
  record.fields["auth"] = "token";
  expect_refused(decide(facts, record, nullptr, kNow), Reason::kDeviceDisabled);
  record.fields["enabled"] = "1";
  expect_refused(decide(facts, record, nullptr, kNow), Reason::kUsernameMismatch);
  facts.username = "user1";
  expect_refused(decide(facts, record, nullptr, kNow), Reason::kUnsupportedSecret);
}

// ---- decide, cert listener ----

class AuthDecideCertTest : public ::testing::Test {
 protected:
  PeerCertificate peer_{"9f86d081884c7d65", "dev1", kNow + 1000};
};

TEST_F(AuthDecideCertTest, Accepts) {
  CertRecord cert = good_cert();
  for (ProtocolVersion v : kVersions) {
    Decision decision = decide(cert_facts(&peer_, v), cert_device(), &cert, kNow);
    EXPECT_EQ(decision.verdict, Verdict::kAccept);
    EXPECT_EQ(decision.reason, Reason::kAccepted);
  }
}

TEST_F(AuthDecideCertTest, RecordWithoutNotAfterIsNotExpired) {
  CertRecord cert = good_cert();
  cert.not_after = 0;
  EXPECT_EQ(decide(cert_facts(&peer_), cert_device(), &cert, kNow).verdict, Verdict::kAccept);
}

TEST_F(AuthDecideCertTest, UnknownDevice) {
  CertRecord cert = good_cert();
  expect_refused(decide(cert_facts(&peer_), DeviceRecord{}, &cert, kNow),
                 Reason::kUnknownDevice);
}

TEST_F(AuthDecideCertTest, TokenDeviceOnCertListener) {
  CertRecord cert = good_cert();
  expect_refused(decide(cert_facts(&peer_), token_device(), &cert, kNow),
                 Reason::kWrongAuthType);
}

TEST_F(AuthDecideCertTest, DisabledDevice) {
  CertRecord cert = good_cert();
  DeviceRecord record = cert_device();
  record.fields["enabled"] = "0";
  expect_refused(decide(cert_facts(&peer_), record, &cert, kNow), Reason::kDeviceDisabled);
}

TEST_F(AuthDecideCertTest, UsernameMismatchAndAbsent) {
  CertRecord cert = good_cert();
  ConnectFacts facts = cert_facts(&peer_);
  facts.username = "other";
  expect_refused(decide(facts, cert_device(), &cert, kNow), Reason::kUsernameMismatch);
  facts.username.reset();
  expect_refused(decide(facts, cert_device(), &cert, kNow), Reason::kUsernameMismatch);
}

TEST_F(AuthDecideCertTest, NoPeerCertificate) {
  CertRecord cert = good_cert();
  expect_refused(decide(cert_facts(nullptr), cert_device(), &cert, kNow), Reason::kCertUnknown);
}

TEST_F(AuthDecideCertTest, CertNotRegistered) {
  CertRecord missing{};
  expect_refused(decide(cert_facts(&peer_), cert_device(), &missing, kNow),
                 Reason::kCertUnknown);
  expect_refused(decide(cert_facts(&peer_), cert_device(), nullptr, kNow),
                 Reason::kCertUnknown);
}

TEST_F(AuthDecideCertTest, CertDisabled) {
  CertRecord cert = good_cert();
  cert.enabled = false;
  expect_refused(decide(cert_facts(&peer_), cert_device(), &cert, kNow), Reason::kCertDisabled);
}

TEST_F(AuthDecideCertTest, CertNotBound) {
  CertRecord cert = good_cert();
  cert.bound_to_device = false;
  expect_refused(decide(cert_facts(&peer_), cert_device(), &cert, kNow), Reason::kCertNotBound);
}

TEST_F(AuthDecideCertTest, ExpiredByRecord) {
  CertRecord cert = good_cert();
  cert.not_after = kNow;  // not_after <= now is expired
  expect_refused(decide(cert_facts(&peer_), cert_device(), &cert, kNow), Reason::kCertExpired);
  cert.not_after = kNow + 1;
  EXPECT_EQ(decide(cert_facts(&peer_), cert_device(), &cert, kNow).verdict, Verdict::kAccept);
}

TEST_F(AuthDecideCertTest, ExpiredByPeerCertificate) {
  CertRecord cert = good_cert();
  peer_.not_after = kNow - 1;
  expect_refused(decide(cert_facts(&peer_), cert_device(), &cert, kNow), Reason::kCertExpired);
  peer_.not_after = 0;  // unset counts as expired: fails closed
  expect_refused(decide(cert_facts(&peer_), cert_device(), &cert, kNow), Reason::kCertExpired);
}

TEST_F(AuthDecideCertTest, PasswordIgnored) {
  CertRecord cert = good_cert();
  ConnectFacts facts = cert_facts(&peer_);
  facts.has_password = true;
  EXPECT_EQ(decide(facts, cert_device(), &cert, kNow).verdict, Verdict::kAccept);
}

TEST_F(AuthDecideCertTest, OrderDeviceChecksBeforeCertificateChecks) {
  CertRecord cert{};  // unregistered certificate
  ConnectFacts facts = cert_facts(&peer_);
  facts.username = "other";
  DeviceRecord record = cert_device();
  record.fields["enabled"] = "0";
  expect_refused(decide(facts, DeviceRecord{}, &cert, kNow), Reason::kUnknownDevice);
  expect_refused(decide(facts, token_device(), &cert, kNow), Reason::kWrongAuthType);
  expect_refused(decide(facts, record, &cert, kNow), Reason::kDeviceDisabled);
  record.fields["enabled"] = "1";
  expect_refused(decide(facts, record, &cert, kNow), Reason::kUsernameMismatch);
  facts.username = "user1";
  expect_refused(decide(facts, record, &cert, kNow), Reason::kCertUnknown);
}

TEST_F(AuthDecideCertTest, OrderAmongCertificateChecks) {
  CertRecord cert{true, false, kNow - 10, false};  // disabled, unbound, expired
  expect_refused(decide(cert_facts(&peer_), cert_device(), &cert, kNow), Reason::kCertDisabled);
  cert.enabled = true;
  expect_refused(decide(cert_facts(&peer_), cert_device(), &cert, kNow), Reason::kCertNotBound);
  cert.bound_to_device = true;
  expect_refused(decide(cert_facts(&peer_), cert_device(), &cert, kNow), Reason::kCertExpired);
}

// The reasons decide() can give land on the codes DESIGN.md names for them.
TEST(AuthDecideConnackTest, DecisionsMapToDesignCodes) {
  Decision unknown = decide(token_facts(ProtocolVersion::kV5), DeviceRecord{}, nullptr, kNow);
  EXPECT_EQ(connack_code(unknown.reason, ProtocolVersion::kV5), 0x86);
  EXPECT_EQ(connack_code(unknown.reason, ProtocolVersion::kV311), 4);
  DeviceRecord disabled = token_device();
  disabled.fields["enabled"] = "0";
  Decision off = decide(token_facts(ProtocolVersion::kV31), disabled, nullptr, kNow);
  EXPECT_EQ(connack_code(off.reason, ProtocolVersion::kV31), 5);
  EXPECT_EQ(connack_code(off.reason, ProtocolVersion::kV5), 0x87);
}

}  // namespace
}  // namespace auth
