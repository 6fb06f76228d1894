// Tests of auth/base64.h (internal to auth_secrets): variants, padding, canonical form.
#include "auth/base64.h"

#include <gtest/gtest.h>

namespace auth {
namespace {

std::vector<uint8_t> v(std::string_view text) { return {text.begin(), text.end()}; }

TEST(AuthBase64Test, StandardPadded) {
  EXPECT_EQ(decode_base64("Zm9vYg==", Base64Variant::kStandard, 64), v("foob"));
  EXPECT_EQ(decode_base64("Zm9vYmE=", Base64Variant::kStandard, 64), v("fooba"));
  EXPECT_EQ(decode_base64("Zm9vYmFy", Base64Variant::kStandard, 64), v("foobar"));
  EXPECT_EQ(decode_base64("", Base64Variant::kStandard, 64), v(""));
  EXPECT_EQ(decode_base64("+/+/", Base64Variant::kStandard, 64),
            (std::vector<uint8_t>{0xfb, 0xff, 0xbf}));
}

TEST(AuthBase64Test, StandardRejects) {
  for (std::string_view bad : {"Zm9vYg", "Zm9vYg=", "Zm9vYg===", "Zm9v=Yg=", "Zm9vYh==",
                               "Zm9v Yg==", ".m9v", "Z"}) {
    EXPECT_FALSE(decode_base64(bad, Base64Variant::kStandard, 64).has_value()) << bad;
  }
}

TEST(AuthBase64Test, Unpadded) {
  EXPECT_EQ(decode_base64("Zm9vYg", Base64Variant::kUnpadded, 64), v("foob"));
  EXPECT_EQ(decode_base64("././/", Base64Variant::kUnpadded, 64),
            decode_base64("+/+//", Base64Variant::kUnpadded, 64));
  EXPECT_FALSE(decode_base64("Zm9vYg==", Base64Variant::kUnpadded, 64).has_value());
  EXPECT_FALSE(decode_base64("Zm9vYh", Base64Variant::kUnpadded, 64).has_value());
  EXPECT_FALSE(decode_base64("Zm9vY", Base64Variant::kUnpadded, 64).has_value());
}

TEST(AuthBase64Test, MaxBytes) {
  EXPECT_TRUE(decode_base64("Zm9vYmFy", Base64Variant::kStandard, 6).has_value());
  EXPECT_FALSE(decode_base64("Zm9vYmFy", Base64Variant::kStandard, 5).has_value());
  EXPECT_FALSE(decode_base64(std::string(10000, 'A'), Base64Variant::kStandard, 64).has_value());
}

TEST(AuthBase64Test, EncodeRoundTrip) {
  std::vector<uint8_t> data;
  for (int i = 0; i < 70; ++i) {
    std::string encoded = encode_base64(data);
    EXPECT_EQ(encoded.size() % 4, 0u);
    EXPECT_EQ(decode_base64(encoded, Base64Variant::kStandard, 128), data);
    data.push_back(static_cast<uint8_t>(i * 37));
  }
}

}  // namespace
}  // namespace auth
