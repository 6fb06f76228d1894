// Tests of verify_secret / classify_secret / secret_is_slow against vectors made by the real
// tools. Every vector hashes the password "correct horse"; the command that produced it is
// written above it.
#include <gtest/gtest.h>

#include <string>
#include <string_view>

#include "auth/secret.h"

namespace auth {
namespace {

std::span<const uint8_t> bytes(std::string_view text) {
  return {reinterpret_cast<const uint8_t*>(text.data()), text.size()};
}

constexpr std::string_view kPassword = "correct horse";

// mosquitto_passwd -b -c FILE device1 'correct horse'   (mosquitto 2.0.11, default $7$)
constexpr std::string_view kMosquittoPbkdf2 =
    "$7$101$1X3LqQeubNuZz9+t$90/0NrOFR3/MIbfOKoMkGtnlu+v0u+MD0h9iMX4q8Hr7Y1/MB6QF6EITaCgiI9+1"
    "cxrTBo20pbg9/oAh4oiimQ==";
// mosquitto_passwd -H sha512 -b -c FILE device1 'correct horse'
constexpr std::string_view kMosquittoSha512 =
    "$6$XNQMklvlP0czT3Qs$CGMq+nX+GgJ9WzloxIiRjzGGP4s0rMT5STC+m69R/AiwYFX90/cdV5u7gc4j8FWvhNDiG5"
    "567tHFbl4kRHKPSg==";
// mosquitto-go-auth form, made with python3 hashlib exactly as go-auth's default hasher
// (salt base64-decoded, key length = decoded hash length):
//   salt = bytes(range(1, 17))
//   dk = hashlib.pbkdf2_hmac('sha256', b'correct horse', salt, 1000)
//   'PBKDF2$sha256$1000$' + b64encode(salt) + '$' + b64encode(dk)
constexpr std::string_view kGoAuthSha256 =
    "PBKDF2$sha256$1000$AQIDBAUGBwgJCgsMDQ4PEA==$YwKfNMrnHLcz6zlkYSHCNthMmUVmRkplZtxCdAZgV8M=";
//   same with 'sha512' and 100000 iterations (go-auth's defaults)
constexpr std::string_view kGoAuthSha512 =
    "PBKDF2$sha512$100000$AQIDBAUGBwgJCgsMDQ4PEA==$99keA4UH4JOisx7JZynf5zdo/0YghNMnHBOXgBS6mpib"
    "VsFvipPjtRdVvg9kEv2eaaibvYdmz1HsX9cSkNQzdQ==";
// go-auth with hasher_salt_encoding utf-8: the salt string's own bytes are the salt.
//   dk = hashlib.pbkdf2_hmac('sha256', b'correct horse', b'raw-salt!', 1000)
constexpr std::string_view kGoAuthRawSalt =
    "PBKDF2$sha256$1000$raw-salt!$h39fHLc9c0S4oQljlFxIWSA/Hm9xEd85pQ3Dxy5+coI=";
// passlib's pbkdf2_sha256 / pbkdf2_sha512 format, made with python3 hashlib and passlib's
// "adapted base64" (standard alphabet, '.' for '+', no padding):
//   ab64 = lambda b: b64encode(b).decode().rstrip('=').replace('+', '.')
//   salt = bytes.fromhex('fbdfbb16f7ce8ebaa2fa1fac1fcd9b3e')
//   dk = hashlib.pbkdf2_hmac('sha256', b'correct horse', salt, 29000)
//   '$pbkdf2-sha256$29000$' + ab64(salt) + '$' + ab64(dk)
constexpr std::string_view kPhcSha256 =
    "$pbkdf2-sha256$29000$.9.7FvfOjrqi.h.sH82bPg$2wjPOV.QKMkb2EDxUctK4vcuryW6Ue9yCueBlib7Bgs";
//   same with 'sha512' and 25000 rounds
constexpr std::string_view kPhcSha512 =
    "$pbkdf2-sha512$25000$.9.7FvfOjrqi.h.sH82bPg$87oljWR6yh806kzEVAo52mSonwxuCKHUECrVqSJ4mObLH"
    "Ag/hxL1cx1Ft178vHNZ.v7eGS.m9.yoxkLYbKTJnA";
// libxcrypt through python3's crypt module (Debian 12, python 3.11):
//   crypt.crypt('correct horse', '$2b$05$abcdefghijklmnopqrstuu')   (and $2a$, $2y$)
constexpr std::string_view kBcrypt2b =
    "$2b$05$abcdefghijklmnopqrstuuHNbAKRhpaujgo33bRWs.NLUTJO3lOy2";
constexpr std::string_view kBcrypt2a =
    "$2a$05$abcdefghijklmnopqrstuuHNbAKRhpaujgo33bRWs.NLUTJO3lOy2";
constexpr std::string_view kBcrypt2y =
    "$2y$05$abcdefghijklmnopqrstuuHNbAKRhpaujgo33bRWs.NLUTJO3lOy2";
//   crypt.crypt('correct horse', crypt.mksalt(crypt.METHOD_BLOWFISH, rounds=2**6))
constexpr std::string_view kBcryptRandomSalt =
    "$2b$06$thvl3X.LuedZrgzg9ANYoecW4OyxGSOwi45giFhOLotCc1JIcKFBO";
// argon2 CLI (Debian package argon2, 0~20171227):
//   echo -n 'correct horse' | argon2 saltsaltsaltsalt -id -t 2 -m 10 -p 1 -l 32 -e
constexpr std::string_view kArgon2id =
    "$argon2id$v=19$m=1024,t=2,p=1$c2FsdHNhbHRzYWx0c2FsdA$MO33cCFnqSA8SskhR8/i5r/vajJ3mDxwI/Myo"
    "h5GZwk";
//   echo -n 'correct horse' | argon2 saltsaltsaltsalt -i -t 2 -m 10 -p 1 -l 32 -e
constexpr std::string_view kArgon2i =
    "$argon2i$v=19$m=1024,t=2,p=1$c2FsdHNhbHRzYWx0c2FsdA$k74KtOeXRC+Liob2I0b0MKFpIPhXAdb8cojiL"
    "ViemA4";

struct Vector {
  std::string_view name;
  std::string_view stored;
  SecretScheme scheme;
  bool slow;
};

const Vector kVectors[] = {
    {"mosquitto_pbkdf2", kMosquittoPbkdf2, SecretScheme::kMosquittoPbkdf2, false},
    {"mosquitto_sha512", kMosquittoSha512, SecretScheme::kMosquittoSha512, false},
    {"go_auth_sha256", kGoAuthSha256, SecretScheme::kGoAuthPbkdf2, false},
    {"go_auth_sha512", kGoAuthSha512, SecretScheme::kGoAuthPbkdf2, true},
    {"go_auth_raw_salt", kGoAuthRawSalt, SecretScheme::kGoAuthPbkdf2, false},
    {"phc_sha256", kPhcSha256, SecretScheme::kPhcPbkdf2, true},
    {"phc_sha512", kPhcSha512, SecretScheme::kPhcPbkdf2, true},
    {"bcrypt_2b", kBcrypt2b, SecretScheme::kBcrypt, true},
    {"bcrypt_2a", kBcrypt2a, SecretScheme::kBcrypt, true},
    {"bcrypt_2y", kBcrypt2y, SecretScheme::kBcrypt, true},
    {"bcrypt_random_salt", kBcryptRandomSalt, SecretScheme::kBcrypt, true},
    {"argon2id", kArgon2id, SecretScheme::kArgon2id, true},
};

TEST(AuthSecretVectorsTest, RightPasswordMatches) {
  for (const Vector& v : kVectors) {
    SCOPED_TRACE(std::string(v.name));
    EXPECT_EQ(verify_secret(v.stored, bytes(kPassword), false), VerifyResult::kMatch);
    EXPECT_EQ(verify_secret(v.stored, bytes(kPassword), true), VerifyResult::kMatch);
  }
}

TEST(AuthSecretVectorsTest, WrongPasswordMismatches) {
  for (const Vector& v : kVectors) {
    SCOPED_TRACE(std::string(v.name));
    EXPECT_EQ(verify_secret(v.stored, bytes("correct horsf"), false), VerifyResult::kMismatch);
    EXPECT_EQ(verify_secret(v.stored, bytes(""), false), VerifyResult::kMismatch);
    EXPECT_EQ(verify_secret(v.stored, bytes("correct horse "), false), VerifyResult::kMismatch);
    // The stored string itself is never the password, even with plaintext allowed.
    EXPECT_EQ(verify_secret(v.stored, bytes(v.stored), true), VerifyResult::kMismatch);
  }
}

TEST(AuthSecretVectorsTest, ClassifiesAndCosts) {
  for (const Vector& v : kVectors) {
    SCOPED_TRACE(std::string(v.name));
    EXPECT_EQ(classify_secret(v.stored, false), v.scheme);
    EXPECT_EQ(classify_secret(v.stored, true), v.scheme);
    EXPECT_EQ(secret_is_slow(v.stored), v.slow);
  }
}

// A cut secret (cut after its scheme marker) is never compared as plaintext, even with
// plaintext on. Where the cut breaks the scheme's shape (a field goes missing, a key no
// longer decodes to its fixed length, bcrypt is no longer 60 symbols, a key shorter than 16
// bytes) the record is kUnsupportedFormat and logged as broken; classify_secret and
// verify_secret agree. Schemes whose key length is free can be cut at a base64 boundary and
// stay well formed: for argon2id the tag length is an input of the hash, so that is another
// secret (kMismatch); for PBKDF2 a shorter derived key is a prefix of the longer one, so the
// right password still matches (kMatch), with the strength of the remaining >= 16 bytes.
TEST(AuthSecretVectorsTest, TruncatedIsUnsupportedOrStillSound) {
  for (const Vector& v : kVectors) {
    SCOPED_TRACE(std::string(v.name));
    bool fixed_key_length = v.scheme == SecretScheme::kMosquittoPbkdf2 ||
                            v.scheme == SecretScheme::kMosquittoSha512 ||
                            v.scheme == SecretScheme::kBcrypt;
    bool pbkdf2 = v.scheme == SecretScheme::kGoAuthPbkdf2 || v.scheme == SecretScheme::kPhcPbkdf2;
    for (size_t cut = 7; cut < v.stored.size(); ++cut) {  // 7: past "PBKDF2$"
      std::string_view truncated = v.stored.substr(0, cut);
      SCOPED_TRACE(std::string(truncated));
      SecretScheme scheme = classify_secret(truncated, true);
      if (scheme == SecretScheme::kUnsupported) {
        EXPECT_EQ(verify_secret(truncated, bytes(kPassword), true),
                  VerifyResult::kUnsupportedFormat);
        continue;
      }
      EXPECT_FALSE(fixed_key_length);
      EXPECT_EQ(scheme, v.scheme);
      EXPECT_EQ(verify_secret(truncated, bytes(kPassword), true),
                pbkdf2 ? VerifyResult::kMatch : VerifyResult::kMismatch);
      EXPECT_EQ(verify_secret(truncated, bytes("wrong"), true), VerifyResult::kMismatch);
    }
  }
}

TEST(AuthSecretVectorsTest, TruncatedExamples) {
  // $7$ without its last padding symbol: unsupported.
  EXPECT_EQ(verify_secret(kMosquittoPbkdf2.substr(0, kMosquittoPbkdf2.size() - 1),
                          bytes(kPassword), false),
            VerifyResult::kUnsupportedFormat);
  // go-auth without the last 4 symbols: a valid 30-byte key, the prefix of the 32-byte one.
  std::string go_auth(kGoAuthSha256);
  go_auth.resize(go_auth.size() - 4);
  EXPECT_EQ(classify_secret(go_auth, false), SecretScheme::kGoAuthPbkdf2);
  EXPECT_EQ(verify_secret(go_auth, bytes(kPassword), false), VerifyResult::kMatch);
  // Cut to 12 bytes (16 symbols): below the 16-byte floor.
  std::string_view short_key =
      "PBKDF2$sha256$1000$AQIDBAUGBwgJCgsMDQ4PEA==$YwKfNMrnHLcz6zlk";
  EXPECT_EQ(verify_secret(short_key, bytes(kPassword), false), VerifyResult::kUnsupportedFormat);
  // argon2id with a tag cut to 30 bytes is another secret.
  EXPECT_EQ(verify_secret(kArgon2id.substr(0, kArgon2id.size() - 3), bytes(kPassword), false),
            VerifyResult::kMismatch);
}

// Flipping one symbol of the key to another valid symbol keeps the shape: the record is
// well formed but holds another key, so the right password gives kMismatch.
TEST(AuthSecretVectorsTest, GarbledKeySymbolMismatches) {
  for (const Vector& v : kVectors) {
    SCOPED_TRACE(std::string(v.name));
    std::string garbled(v.stored);
    // A symbol in the middle of the key: never the last one, whose low bits may be unused.
    size_t at = garbled.size() - 8;
    garbled[at] = garbled[at] == 'A' ? 'B' : 'A';
    EXPECT_EQ(verify_secret(garbled, bytes(kPassword), false), VerifyResult::kMismatch);
  }
}

// A symbol outside the scheme's alphabet, or a broken parameter, breaks the shape.
TEST(AuthSecretVectorsTest, GarbledShapeIsUnsupported) {
  const std::string_view broken[] = {
      "$7$101$1X3LqQeubNuZz9+t$90/0NrOFR3/MIbfOKoMkGtnlu+v0u+MD0h9iMX4q8Hr7Y1/MB6QF6EITaCgiI9+1"
      "cxrTBo20pbg9/oAh4oii!Q==",                        // '!' in the key
      "$7$1x1$1X3LqQeubNuZz9+t$90/0NrOFR3/MIbfOKoMkGtnlu+v0u+MD0h9iMX4q8Hr7Y1/MB6QF6EITaCgiI9+1"
      "cxrTBo20pbg9/oAh4oiimQ==",                        // iterations not a number
      "$7$0$1X3LqQeubNuZz9+t$90/0NrOFR3/MIbfOKoMkGtnlu+v0u+MD0h9iMX4q8Hr7Y1/MB6QF6EITaCgiI9+1"
      "cxrTBo20pbg9/oAh4oiimQ==",                        // zero iterations
      "$7$101$$90/0NrOFR3/MIbfOKoMkGtnlu+v0u+MD0h9iMX4q8Hr7Y1/MB6QF6EITaCgiI9+1cxrTBo20pbg9/oAh4"
      "oiimQ==",                                         // empty salt
      "$6$XNQMklvlP0czT3Qs$CGMq+nX+GgJ9WzloxIiRjzGGP4s0rMT5STC+m69R/AiwYFX90/cdV5u7gc4j8FWvhNDiG5"
      "567tHFbl4kRHKPSg==$extra",                        // extra field
      "PBKDF2$md5$1000$AQIDBAUGBwgJCgsMDQ4PEA==$YwKfNMrnHLcz6zlkYSHCNthMmUVmRkplZtxCdAZgV8M=",
      "PBKDF2$sha256$-1$AQIDBAUGBwgJCgsMDQ4PEA==$YwKfNMrnHLcz6zlkYSHCNthMmUVmRkplZtxCdAZgV8M=",
      "$pbkdf2-sha256$i=29000,l=31$.9.7FvfOjrqi.h.sH82bPg$2wjPOV.QKMkb2EDxUctK4vcuryW6Ue9yCueBlib"
      "7Bgs",                                            // l= disagrees with the key
      "$pbkdf2-sha256$29000$.9.7FvfOjrqi.h.sH82bPg$2wjPOV.QKMkb2EDxUctK4vcuryW6Ue9yCueBlib7Bg=",
      "$2b$05$abcdefghijklmnopqrstuuHNbAKRhpaujgo33bRWs.NLUTJO3lOy!",
      "$2b$5$abcdefghijklmnopqrstuuHNbAKRhpaujgo33bRWs.NLUTJO3lOy2x",
      "$2c$05$abcdefghijklmnopqrstuuHNbAKRhpaujgo33bRWs.NLUTJO3lOy2",
      "$argon2id$v=19$m=1024,p=1,t=2$c2FsdHNhbHRzYWx0c2FsdA$MO33cCFnqSA8SskhR8/i5r/vajJ3mDxwI/My"
      "oh5GZwk",                                         // parameters out of order
      "$argon2id$v=18$m=1024,t=2,p=1$c2FsdHNhbHRzYWx0c2FsdA$MO33cCFnqSA8SskhR8/i5r/vajJ3mDxwI/My"
      "oh5GZwk",
  };
  for (std::string_view stored : broken) {
    SCOPED_TRACE(std::string(stored));
    EXPECT_EQ(classify_secret(stored, true), SecretScheme::kUnsupported);
    EXPECT_EQ(verify_secret(stored, bytes(kPassword), true), VerifyResult::kUnsupportedFormat);
    EXPECT_FALSE(secret_is_slow(stored));
  }
}

// Records whose cost would keep a worker busy for minutes, or allocate gigabytes, are
// refused before any work is done.
TEST(AuthSecretVectorsTest, HostileCostsAreUnsupported) {
  const std::string_view hostile[] = {
      "$7$10000001$1X3LqQeubNuZz9+t$90/0NrOFR3/MIbfOKoMkGtnlu+v0u+MD0h9iMX4q8Hr7Y1/MB6QF6EITaCgi"
      "I9+1cxrTBo20pbg9/oAh4oiimQ==",
      "$7$4294967296$1X3LqQeubNuZz9+t$90/0NrOFR3/MIbfOKoMkGtnlu+v0u+MD0h9iMX4q8Hr7Y1/MB6QF6EITaC"
      "giI9+1cxrTBo20pbg9/oAh4oiimQ==",
      "PBKDF2$sha256$99999999$AQIDBAUGBwgJCgsMDQ4PEA==$YwKfNMrnHLcz6zlkYSHCNthMmUVmRkplZtxCdAZgV8"
      "M=",
      "$pbkdf2-sha512$i=4000000000$.9.7FvfOjrqi.h.sH82bPg$2wjPOV.QKMkb2EDxUctK4vcuryW6Ue9yCueBlib"
      "7Bgs",
      "$2b$31$abcdefghijklmnopqrstuuHNbAKRhpaujgo33bRWs.NLUTJO3lOy2",
      "$2b$17$abcdefghijklmnopqrstuuHNbAKRhpaujgo33bRWs.NLUTJO3lOy2",
      "$argon2id$v=19$m=4194304,t=2,p=1$c2FsdHNhbHRzYWx0c2FsdA$MO33cCFnqSA8SskhR8/i5r/vajJ3mDxwI"
      "/Myoh5GZwk",
      "$argon2id$v=19$m=1024,t=1000,p=1$c2FsdHNhbHRzYWx0c2FsdA$MO33cCFnqSA8SskhR8/i5r/vajJ3mDxwI"
      "/Myoh5GZwk",
      "$argon2id$v=19$m=1024,t=2,p=255$c2FsdHNhbHRzYWx0c2FsdA$MO33cCFnqSA8SskhR8/i5r/vajJ3mDxwI/M"
      "yoh5GZwk",
  };
  for (std::string_view stored : hostile) {
    SCOPED_TRACE(std::string(stored));
    EXPECT_EQ(classify_secret(stored, false), SecretScheme::kUnsupported);
    EXPECT_EQ(verify_secret(stored, bytes(kPassword), false), VerifyResult::kUnsupportedFormat);
  }
  std::string too_long = "$7$101$" + std::string(2000, 'A') + "$AAAA";
  EXPECT_EQ(verify_secret(too_long, bytes(kPassword), true), VerifyResult::kUnsupportedFormat);
}

TEST(AuthSecretVectorsTest, ArgonOtherThanIdIsUnsupportedEvenWithPlaintext) {
  EXPECT_EQ(classify_secret(kArgon2i, true), SecretScheme::kUnsupported);
  EXPECT_EQ(verify_secret(kArgon2i, bytes(kPassword), true), VerifyResult::kUnsupportedFormat);
}

TEST(AuthSecretVectorsTest, ArgonWithoutVersionField) {
  // libargon2 still reads the pre-1.3 form without v=, but it then means version 0x10, a
  // different function: the 1.3 vector with v= removed is well formed and mismatches.
  constexpr std::string_view kNoVersion =
      "$argon2id$m=1024,t=2,p=1$c2FsdHNhbHRzYWx0c2FsdA$MO33cCFnqSA8SskhR8/i5r/vajJ3mDxwI/Myoh5"
      "GZwk";
  EXPECT_EQ(classify_secret(kNoVersion, false), SecretScheme::kArgon2id);
  EXPECT_EQ(verify_secret(kNoVersion, bytes(kPassword), false), VerifyResult::kMismatch);
}

TEST(AuthSecretVectorsTest, BcryptPasswordWithNulNeverMatches) {
  const char with_nul[] = "correct horse\0tail";
  EXPECT_EQ(verify_secret(kBcrypt2b, bytes(std::string_view(with_nul, sizeof(with_nul) - 1)),
                          false),
            VerifyResult::kMismatch);
}

// ---- plaintext ----

TEST(AuthSecretPlaintextTest, OffIsUnsupported) {
  EXPECT_EQ(classify_secret("hunter2", false), SecretScheme::kUnsupported);
  EXPECT_EQ(verify_secret("hunter2", bytes("hunter2"), false), VerifyResult::kUnsupportedFormat);
}

TEST(AuthSecretPlaintextTest, OnComparesExactly) {
  EXPECT_EQ(classify_secret("hunter2", true), SecretScheme::kPlaintext);
  EXPECT_EQ(verify_secret("hunter2", bytes("hunter2"), true), VerifyResult::kMatch);
  EXPECT_EQ(verify_secret("hunter2", bytes("hunter3"), true), VerifyResult::kMismatch);
  EXPECT_EQ(verify_secret("hunter2", bytes("hunter"), true), VerifyResult::kMismatch);
  EXPECT_EQ(verify_secret("hunter2", bytes("hunter22"), true), VerifyResult::kMismatch);
  EXPECT_EQ(verify_secret("hunter2", bytes("Hunter2"), true), VerifyResult::kMismatch);
  EXPECT_EQ(verify_secret("hunter2", bytes(""), true), VerifyResult::kMismatch);
  EXPECT_FALSE(secret_is_slow("hunter2"));
}

TEST(AuthSecretPlaintextTest, EmptySecretNeverMatches) {
  EXPECT_EQ(classify_secret("", true), SecretScheme::kUnsupported);
  EXPECT_EQ(verify_secret("", bytes(""), true), VerifyResult::kUnsupportedFormat);
}

// Anything naming a hash scheme is never plaintext: otherwise an unsupported hash (or a
// broken supported one) would be a password equal to the hash string.
TEST(AuthSecretPlaintextTest, HashLikeSecretsAreNeverPlaintext) {
  for (std::string_view stored :
       {"$1$abc$def", "$5$rounds=5000$salt$hash", "$argon2i$v=19$m=1,t=1,p=1$a$b", "$7$",
        "$pbkdf2$1000$salt$hash", "PBKDF2$", "$anything"}) {
    SCOPED_TRACE(std::string(stored));
    EXPECT_EQ(classify_secret(stored, true), SecretScheme::kUnsupported);
    EXPECT_EQ(verify_secret(stored, bytes(stored), true), VerifyResult::kUnsupportedFormat);
  }
}

TEST(AuthSecretPlaintextTest, BinaryPasswords) {
  const char stored[] = "k\x01\xff y";
  EXPECT_EQ(verify_secret(stored, bytes(stored), true), VerifyResult::kMatch);
}

}  // namespace
}  // namespace auth
