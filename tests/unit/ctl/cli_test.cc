// tests/unit/ctl/cli_test.cc: the mqtt-authctl binary end to end (popen) on a real redis.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "auth/secret.h"
#include "redis_test_server.h"

namespace ctl_test {
namespace {

struct RunResult {
  int exit_code = -1;
  std::string out;
  std::string err;
};

std::string read_file(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

class CtlCli : public CtlRedisFixture {
 protected:
  void SetUp() override {
    CtlRedisFixture::SetUp();
    std::string pattern = (std::filesystem::temp_directory_path() / "ctl-cli-XXXXXX").string();
    ASSERT_NE(mkdtemp(pattern.data()), nullptr);
    dir_ = pattern;
  }
  void TearDown() override {
    std::error_code ignored;
    std::filesystem::remove_all(dir_, ignored);
  }

  // run executes mqtt-authctl with |args| (already shell-quoted where needed) against the
  // fixture's Redis and prefix "t:".
  // |stdin_line| (no quotes in it), when given, is piped to the command's stdin.
  RunResult run(const std::string& args, const std::string& stdin_line = "") {
    const std::string err_path = dir_ + "/stderr";
    std::string feed = stdin_line.empty() ? "" : "printf '%s\\n' '" + stdin_line + "' | ";
    std::string command = feed + std::string(MQTT_AUTHCTL_PATH) + " --redis " + url() +
                          " --prefix t: " + args + " 2>" + err_path;
    RunResult result;
    FILE* pipe = popen(command.c_str(), "r");
    if (pipe == nullptr) return result;
    char buffer[4096];
    size_t n;
    while ((n = fread(buffer, 1, sizeof(buffer), pipe)) > 0) result.out.append(buffer, n);
    int status = pclose(pipe);
    result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    result.err = read_file(err_path);
    return result;
  }

  std::string dir_;
};

TEST_F(CtlCli, DeviceAddPrintsKeyOnceAndRefusesDuplicates) {
  RunResult added = run("device add dev1 --username u1 --label tenant=acme");
  ASSERT_EQ(added.exit_code, 0) << added.err;
  size_t at = added.out.find("key: ");
  ASSERT_NE(at, std::string::npos) << added.out;
  std::string key = added.out.substr(at + 5, 32);
  EXPECT_EQ(key.find_first_not_of("0123456789abcdef"), std::string::npos);
  EXPECT_EQ(client_->command({"HGET", "t:device:dev1", "tenant"}).str(), "acme");

  RunResult shown = run("device get dev1");
  ASSERT_EQ(shown.exit_code, 0) << shown.err;
  EXPECT_NE(shown.out.find("secret: (set)"), std::string::npos) << shown.out;
  EXPECT_NE(shown.out.find("username: u1"), std::string::npos);
  EXPECT_EQ(shown.out.find("$7$"), std::string::npos);
  EXPECT_EQ(shown.out.find(key), std::string::npos);

  RunResult again = run("device add dev1 --username u1");
  EXPECT_EQ(again.exit_code, 1);
  EXPECT_NE(again.err.find("already exists"), std::string::npos) << again.err;
}

TEST_F(CtlCli, KeyFromStdin) {
  RunResult added = run("device add p1 --username u --key -", "piped-key");
  ASSERT_EQ(added.exit_code, 0) << added.err;
  EXPECT_EQ(added.out.find("key:"), std::string::npos);  // nothing generated, nothing shown
  std::string secret(client_->command({"HGET", "t:device:p1", "secret"}).str());
  std::string_view key = "piped-key";
  EXPECT_EQ(auth::verify_secret(secret, {reinterpret_cast<const uint8_t*>(key.data()), key.size()},
                                false),
            auth::VerifyResult::kMatch);
}

TEST_F(CtlCli, UsageErrorsExitTwo) {
  EXPECT_EQ(run("device add dev1").exit_code, 2);                         // no --username
  EXPECT_EQ(run("device frobnicate x").exit_code, 2);                     // unknown command
  EXPECT_EQ(run("device get").exit_code, 2);                              // missing ID
  EXPECT_EQ(run("device get a --username u").exit_code, 2);               // option not taken
  EXPECT_EQ(run("device add d --username u --auth magic").exit_code, 2);  // bad value
  EXPECT_EQ(run("--bogus device list").exit_code, 2);
  RunResult bad_url = run("device list --redis http://x");
  EXPECT_EQ(bad_url.exit_code, 2);
  EXPECT_EQ(run("--help").exit_code, 0);
}

TEST_F(CtlCli, NotFoundExitsOne) {
  RunResult missing = run("device get ghost");
  EXPECT_EQ(missing.exit_code, 1);
  EXPECT_NE(missing.err.find("not found"), std::string::npos);
  EXPECT_EQ(run("device disable ghost").exit_code, 1);
  EXPECT_EQ(run("cert get nothing").exit_code, 1);
}

TEST_F(CtlCli, JsonListAndDisable) {
  ASSERT_EQ(run("device add b1 --username ub --auth cert").exit_code, 0);
  ASSERT_EQ(run("device add a1 --username ua --key secret-key").exit_code, 0);
  ASSERT_EQ(run("device disable b1").exit_code, 0);
  RunResult listed = run("device list --json");
  ASSERT_EQ(listed.exit_code, 0) << listed.err;
  EXPECT_EQ(listed.out, R"([{"id":"a1","username":"ua","auth":"token","enabled":true},)"
                        R"({"id":"b1","username":"ub","auth":"cert","enabled":false}])"
                        "\n");
  RunResult added = run("device add c1 --username uc --json");
  ASSERT_EQ(added.exit_code, 0);
  EXPECT_TRUE(added.out.starts_with(R"({"ok":true,"device":"c1","key":")")) << added.out;
}

TEST_F(CtlCli, CertLifecycle) {
  ASSERT_EQ(run("ca init --out " + dir_ + "/ca").exit_code, 0);
  RunResult created = run("cert create --ca " + dir_ + "/ca --name cam-cert --out " + dir_);
  ASSERT_EQ(created.exit_code, 0) << created.err;
  std::string cert_id = created.out.substr(0, created.out.find('\n'));
  ASSERT_EQ(cert_id.size(), 64u) << created.out;
  EXPECT_TRUE(std::filesystem::exists(dir_ + "/cam-cert_certs/cam-cert.crt"));
  EXPECT_EQ(client_->command({"HGET", "t:cert:" + cert_id, "name"}).str(), "cam-cert");

  ASSERT_EQ(run("device add cam1 --username cu --auth cert").exit_code, 0);
  EXPECT_EQ(run("cert bind cam-cert ghost").exit_code, 1);
  ASSERT_EQ(run("cert bind cam-cert cam1").exit_code, 0);
  EXPECT_EQ(smembers("t:device:cam1:certs"), (std::vector<std::string>{cert_id}));

  RunResult refused = run("cert delete " + cert_id);
  EXPECT_EQ(refused.exit_code, 1);
  EXPECT_NE(refused.err.find("bound"), std::string::npos) << refused.err;
  ASSERT_EQ(run("cert unbind cam-cert cam1").exit_code, 0);
  EXPECT_EQ(run("cert delete cam-cert").exit_code, 0);
  EXPECT_EQ(client_->command({"EXISTS", "t:cert:" + cert_id}).integer(), 0);

  // Importing the same file registers the same cert_id, disabled on request.
  RunResult imported =
      run("cert import " + dir_ + "/cam-cert_certs/cam-cert.crt --name again --disabled");
  ASSERT_EQ(imported.exit_code, 0) << imported.err;
  EXPECT_EQ(imported.out, cert_id + "\n");
  EXPECT_EQ(client_->command({"HGET", "t:cert:" + cert_id, "enabled"}).str(), "0");
}

TEST_F(CtlCli, ServerCertAndKick) {
  ASSERT_EQ(run("ca init --out " + dir_ + "/ca --cn 'My CA' --days 10").exit_code, 0);
  RunResult server = run("server-cert --ca " + dir_ +
                         "/ca --cn localhost --san localhost "
                         "--san 127.0.0.1 --out " +
                         dir_ + "/srv --json");
  ASSERT_EQ(server.exit_code, 0) << server.err;
  EXPECT_NE(server.out.find(R"("cn":"localhost")"), std::string::npos) << server.out;
  EXPECT_TRUE(std::filesystem::exists(dir_ + "/srv/server.key"));
  EXPECT_EQ(run("server-cert --ca " + dir_ + "/ca --cn h --key dsa --out " + dir_).exit_code, 2);

  ChangeListener listener(port(), "t:changes");
  RunResult kicked = run("kick dev7");
  ASSERT_EQ(kicked.exit_code, 0) << kicked.err;
  EXPECT_EQ(listener.collect(1), (std::vector<std::string>{"kick dev7"}));
}

}  // namespace
}  // namespace ctl_test
