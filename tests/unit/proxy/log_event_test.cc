// Rendering of structured log lines: text key=value quoting and JSON escaping. The rate
// limiter behind LogLimit::kLimited is exercised end to end by the integration tests.
#include "proxy/log_event.h"

#include <gtest/gtest.h>

#include <string>

namespace proxy {
namespace {

std::string escaped(std::string_view text) {
  std::string out;
  json_escape(text, &out);
  return out;
}

// The JSON members of a rendered event: everything from the first quote on (what precedes
// it is the formatter's own business).
std::string json_members(const std::string& rendered) {
  size_t first_quote = rendered.find('"');
  EXPECT_NE(first_quote, std::string::npos) << rendered;
  return first_quote == std::string::npos ? rendered : rendered.substr(first_quote);
}

TEST(ProxyJsonEscape, QuoteAndBackslashAreEscaped) {
  EXPECT_EQ(escaped(R"(a"b\c)"), R"(a\"b\\c)");
}

TEST(ProxyJsonEscape, CommonControlCharactersUseShortForms) {
  EXPECT_EQ(escaped("a\nb\rc\td"), R"(a\nb\rc\td)");
}

TEST(ProxyJsonEscape, OtherControlCharactersUseUnicodeEscapes) {
  EXPECT_EQ(escaped(std::string("\x00", 1)), R"(\u0000)");
  EXPECT_EQ(escaped("\x01"), R"(\u0001)");
  EXPECT_EQ(escaped("\b\f"), R"(\u0008\u000c)");
  EXPECT_EQ(escaped("\x1b[31m"), R"(\u001b[31m)");
  EXPECT_EQ(escaped("\x1f"), R"(\u001f)");
}

TEST(ProxyJsonEscape, PrintableAndNonAsciiBytesPassThrough) {
  EXPECT_EQ(escaped("plain text / 123 ~\x7f"), "plain text / 123 ~\x7f");
  EXPECT_EQ(escaped("caf\xc3\xa9"), "caf\xc3\xa9");
  std::string out = "prefix:";
  json_escape("x", &out);
  EXPECT_EQ(out, "prefix:x");  // appends, never replaces
}

TEST(ProxyRenderEvent, TextPlainValuesAreBare) {
  EXPECT_EQ(render_event(config::LogFormat::kText, "connect_refused",
                         {{"device", "dev-1"}, {"listener", "token"}, {"peer", "127.0.0.1:5000"},
                          {"reason", "bad_secret"}},
                         0),
            "connect_refused device=dev-1 listener=token peer=127.0.0.1:5000 reason=bad_secret");
}

TEST(ProxyRenderEvent, TextQuotesValuesWithSpacesQuotesEqualsOrControls) {
  EXPECT_EQ(render_event(config::LogFormat::kText, "e", {{"device", "a b"}}, 0), R"(e device="a b")");
  EXPECT_EQ(render_event(config::LogFormat::kText, "e", {{"device", R"(a"b\c)"}}, 0),
            R"(e device="a\"b\\c")");
  EXPECT_EQ(render_event(config::LogFormat::kText, "e", {{"device", "k=v"}}, 0), R"(e device="k=v")");
  // A newline in a device ID cannot start a forged log line.
  EXPECT_EQ(render_event(config::LogFormat::kText, "e", {{"device", "x\nfake_event a=b"}}, 0),
            R"(e device="x\nfake_event a=b")");
  EXPECT_EQ(render_event(config::LogFormat::kText, "e", {{"device", ""}}, 0), R"(e device="")");
}

TEST(ProxyRenderEvent, TextNumbersAndSuppressedCount) {
  EXPECT_EQ(render_event(config::LogFormat::kText, "connect_refused",
                         {{"reason", "unknown_device"}, {"duration", 0.25}, {"count", 7}}, 0),
            "connect_refused reason=unknown_device duration=0.250 count=7");
  EXPECT_EQ(render_event(config::LogFormat::kText, "connect_refused", {{"reason", "x"}}, 42),
            "connect_refused reason=x suppressed=42");
}

TEST(ProxyRenderEvent, JsonMembersInOrderWithEscaping) {
  std::string rendered = render_event(config::LogFormat::kJson, "connect_refused",
                                      {{"device", R"(a"b\c)"}, {"listener", "token"},
                                       {"peer", "[::1]:9"}, {"reason", "bad_secret"}},
                                      0);
  EXPECT_EQ(json_members(rendered),
            R"("event":"connect_refused","device":"a\"b\\c","listener":"token",)"
            R"("peer":"[::1]:9","reason":"bad_secret")");
}

TEST(ProxyRenderEvent, JsonEscapesControlCharactersAndCarriesSuppressed) {
  std::string rendered = render_event(config::LogFormat::kJson, "tls_handshake_failed",
                                      {{"reason", "a\nb\x02"}, {"duration", 1.5}}, 3);
  EXPECT_EQ(json_members(rendered),
            R"("event":"tls_handshake_failed","reason":"a\nb\u0002","duration":"1.500","suppressed":"3")");
  EXPECT_EQ(rendered.find('\n'), std::string::npos);
}

TEST(ProxyRenderEvent, JsonWithoutFields) {
  EXPECT_EQ(json_members(render_event(config::LogFormat::kJson, "started", {}, 0)), R"("event":"started")");
}

}  // namespace
}  // namespace proxy
