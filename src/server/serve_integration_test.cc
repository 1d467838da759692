// `edgeloop serve` and the registry CLI as real processes: keys, tokens, publish, promote,
// rollback, models, graceful shutdown, and TLS with a CA made by the openssl CLI.
#include <gtest/gtest.h>
#include <signal.h>

#include <nlohmann/json.hpp>

#include "edgeloop/common/env.h"
#include "edgeloop/registry/client.h"
#include "edgeloop/registry/data_dir.h"
#include "edgeloop/registry/manifest.h"
#include "registry/test_models.h"
#include "test/support/process.h"
#include "test/support/temp_dir.h"

namespace edgeloop {
namespace {

using nlohmann::json;
using testing_support::BinaryPath;
using testing_support::Process;
using testing_support::ProcessOptions;
using testing_support::RunCommand;
using testing_support::RunResult;

// Runs `edgeloop args...` with a clean registry environment plus `env`.
RunResult Edgeloop(std::vector<std::string> args, std::vector<std::string> env = {}) {
  args.insert(args.begin(), BinaryPath("edgeloop"));
  ProcessOptions o;
  o.env = {"EDGELOOP_SERVER=", "EDGELOOP_TOKEN=", "EDGELOOP_CA_FILE="};
  o.env.insert(o.env.end(), env.begin(), env.end());
  return RunCommand(args, 120000, o);
}

std::string Trimmed(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r' || s.back() == ' ')) s.pop_back();
  return s;
}

class ServeProcess {
 public:
  ServeProcess(const std::string& data, std::vector<std::string> extra = {}) : port_(testing_support::FreePort()) {
    std::vector<std::string> argv = {BinaryPath("edgeloop"), "serve", "--data", data, "--listen",
                                     "127.0.0.1:" + std::to_string(port_)};
    argv.insert(argv.end(), extra.begin(), extra.end());
    ProcessOptions o;
    o.stderr_path = data + "/serve-" + std::to_string(port_) + ".log";
    log_ = o.stderr_path;
    process_ = std::make_unique<Process>(argv, o);
    if (!testing_support::WaitForPort(port_, 20000)) {
      throw std::runtime_error("edgeloop serve did not listen: " + Env::Default()->ReadFile(log_).value());
    }
  }
  int port() const { return port_; }
  Process& process() { return *process_; }
  std::string log() { return Env::Default()->ReadFile(log_).value(); }

 private:
  int port_;
  std::string log_;
  std::unique_ptr<Process> process_;
};

TEST(ServeCli, EndToEnd) {
  testing_support::TempDir dir;
  const std::string data = dir.Join("data");
  RunResult keys = Edgeloop({"keys", "init", "--data", data});
  ASSERT_EQ(keys.exit_code, 0) << keys.err;
  const std::string pub = Trimmed(keys.out);
  EXPECT_EQ(pub.size(), 64u);
  RunResult again = Edgeloop({"keys", "init", "--data", data});
  EXPECT_EQ(again.exit_code, 1);
  EXPECT_NE(again.err.find("refusing to overwrite"), std::string::npos) << again.err;
  struct stat st;
  ASSERT_EQ(::stat(registry::SigningKeyPath(data).c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);

  RunResult admin = Edgeloop({"token", "create", "--data", data, "--role", "admin", "--name", "ci"});
  ASSERT_EQ(admin.exit_code, 0) << admin.err;
  const std::string admin_token = Trimmed(admin.out);
  RunResult device = Edgeloop({"token", "create", "--data", data, "--role", "device", "--device", "dev-1", "--json"});
  ASSERT_EQ(device.exit_code, 0) << device.err;
  const std::string device_token = json::parse(device.out)["token"];
  EXPECT_EQ(Edgeloop({"token", "create", "--data", data, "--role", "root"}).exit_code, 2);

  ServeProcess serve(data, {"--min-metric", "val_accuracy=0.8"});
  const std::string url = "http://127.0.0.1:" + std::to_string(serve.port());
  ASSERT_TRUE(Env::Default()->WriteFileAtomic(dir.Join("m1.tflite"), registry::testing::TfliteModelBytes(5000, 1)).ok());
  ASSERT_TRUE(Env::Default()->WriteFileAtomic(dir.Join("m2.tflite"), registry::testing::TfliteModelBytes(6000, 2)).ok());
  ASSERT_TRUE(Env::Default()
                  ->WriteFileAtomic(dir.Join("report.json"),
                                    R"({"val_accuracy":0.95,"val_loss":0.12,"labels":["ok","fault"],"epochs":[]})")
                  .ok());

  // Publish prints the signed manifest, which verifies with the public key `keys init` printed.
  RunResult p1 = Edgeloop({"publish", dir.Join("m1.tflite"), "--name", "vib", "--server", url, "--token", admin_token,
                           "--metrics", dir.Join("report.json")});
  ASSERT_EQ(p1.exit_code, 0) << p1.err;
  auto m1 = registry::ManifestFromJson(Trimmed(p1.out));
  ASSERT_TRUE(m1.ok()) << p1.out;
  EXPECT_TRUE(registry::VerifyManifest(*m1, pub).ok());
  // The report's scalars and class names (its empty epoch list adds nothing).
  EXPECT_EQ(m1->metrics_json, R"({"labels":["ok","fault"],"val_accuracy":0.95,"val_loss":0.12})");

  // URL and token from the environment.
  const std::vector<std::string> env = {"EDGELOOP_SERVER=" + url, "EDGELOOP_TOKEN=" + admin_token};
  RunResult p2 = Edgeloop({"publish", dir.Join("m2.tflite"), "--name", "vib", "--channel", "canary", "--share", "0.2",
                           "--metrics", dir.Join("report.json")},
                          env);
  ASSERT_EQ(p2.exit_code, 0) << p2.err;
  RunResult refused = Edgeloop({"publish", dir.Join("m2.tflite"), "--name", "vib"}, env);
  EXPECT_EQ(refused.exit_code, 1);
  EXPECT_NE(refused.err.find("HTTP 422 GateRefused: publish refused by gate 'metric-floor'"), std::string::npos)
      << refused.err;
  RunResult not_model = Edgeloop({"publish", dir.Join("report.json"), "--name", "vib", "--metrics",
                                  dir.Join("report.json")}, env);
  EXPECT_NE(not_model.err.find("gate 'tflite'"), std::string::npos) << not_model.err;
  RunResult as_device = Edgeloop({"publish", dir.Join("m1.tflite"), "--name", "vib", "--token", device_token}, env);
  EXPECT_EQ(as_device.exit_code, 1);
  EXPECT_NE(as_device.err.find("needs an admin token"), std::string::npos) << as_device.err;
  RunResult bad_token = Edgeloop({"models", "list", "--token", "elt_nope"}, env);
  EXPECT_EQ(bad_token.exit_code, 1);
  EXPECT_NE(bad_token.err.find("HTTP 401 Unauthenticated"), std::string::npos) << bad_token.err;
  RunResult no_server = Edgeloop({"models", "list", "--token", admin_token});
  EXPECT_EQ(no_server.exit_code, 2);
  EXPECT_NE(no_server.err.find("EDGELOOP_SERVER"), std::string::npos);

  RunResult promote = Edgeloop({"promote", "vib", "1", "--channel", "stable"}, env);
  ASSERT_EQ(promote.exit_code, 0) << promote.err;
  EXPECT_NE(promote.out.find("stable -> version 1"), std::string::npos);
  ASSERT_EQ(Edgeloop({"promote", "vib", "2"}, env).exit_code, 0);
  RunResult rollback = Edgeloop({"rollback", "vib", "--channel", "stable"}, env);
  ASSERT_EQ(rollback.exit_code, 0) << rollback.err;
  EXPECT_NE(rollback.out.find("version 1"), std::string::npos);
  RunResult nothing = Edgeloop({"rollback", "vib"}, env);
  EXPECT_EQ(nothing.exit_code, 1);
  EXPECT_NE(nothing.err.find("HTTP 409 Conflict"), std::string::npos) << nothing.err;
  EXPECT_EQ(Edgeloop({"promote", "vib", "x"}, env).exit_code, 2);

  RunResult list = Edgeloop({"models", "list"}, env);
  ASSERT_EQ(list.exit_code, 0) << list.err;
  EXPECT_NE(list.out.find("vib"), std::string::npos);
  EXPECT_NE(list.out.find("v2@0.2"), std::string::npos) << list.out;
  RunResult list_json = Edgeloop({"models", "list", "--json"}, env);
  EXPECT_EQ(json::parse(list_json.out)["models"][0]["latest_version"], 2);
  RunResult show = Edgeloop({"models", "show", "vib", "--json"}, env);
  ASSERT_EQ(show.exit_code, 0);
  EXPECT_EQ(json::parse(show.out)["versions"].size(), 2u);
  RunResult show_text = Edgeloop({"models", "show", "vib"}, env);
  EXPECT_NE(show_text.out.find("val_accuracy"), std::string::npos);

  // Revoking from another process while the server runs.
  RunResult revoke = Edgeloop({"token", "revoke", "--data", data, "ci"});
  ASSERT_EQ(revoke.exit_code, 0) << revoke.err;
  EXPECT_EQ(Edgeloop({"models", "list"}, env).exit_code, 1);
  RunResult tokens = Edgeloop({"token", "list", "--data", data});
  EXPECT_NE(tokens.out.find("ci"), std::string::npos);
  EXPECT_EQ(tokens.out.find(admin_token), std::string::npos) << "secrets are never listed";

  // SIGTERM: a clean exit.
  serve.process().Signal(SIGTERM);
  auto code = serve.process().Wait(15000);
  ASSERT_TRUE(code.has_value());
  EXPECT_EQ(*code, 0);
  EXPECT_NE(serve.log().find("stopped"), std::string::npos) << serve.log();
}

TEST(ServeCli, HelpOnEveryCommand) {
  for (const char* cmd : {"serve", "keys init", "token create", "token list", "token revoke", "publish", "promote",
                          "rollback", "models list", "models show"}) {
    std::vector<std::string> args;
    std::string s = cmd;
    for (size_t pos = 0; pos != std::string::npos;) {
      size_t space = s.find(' ', pos);
      args.push_back(s.substr(pos, space == std::string::npos ? std::string::npos : space - pos));
      pos = space == std::string::npos ? space : space + 1;
    }
    args.push_back("--help");
    RunResult r = Edgeloop(args);
    EXPECT_EQ(r.exit_code, 0) << cmd;
    EXPECT_NE(r.out.find("edgeloop " + s), std::string::npos) << cmd << ": " << r.out;
  }
  RunResult no_key = Edgeloop({"serve", "--data", testing_support::TempDir().path() + "/x", "--listen", "127.0.0.1:0"});
  EXPECT_EQ(no_key.exit_code, 1);
  EXPECT_NE(no_key.err.find("keys init"), std::string::npos) << no_key.err;
  EXPECT_EQ(Edgeloop({"serve", "--data", "/tmp/x", "--listen", "nonsense"}).exit_code, 1);
}

// A CA and a server certificate for 127.0.0.1, made with the openssl CLI.
struct TestPki {
  explicit TestPki(const testing_support::TempDir& dir) {
    ca = dir.Join("ca.pem");
    cert = dir.Join("server.pem");
    key = dir.Join("server.key");
    other_ca = dir.Join("other-ca.pem");
    const std::string ext = dir.Join("ext.cnf");
    EXPECT_TRUE(Env::Default()
                    ->WriteFileAtomic(ext, "subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=CA:FALSE\n"
                                           "extendedKeyUsage=serverAuth\n")
                    .ok());
    auto run = [](std::vector<std::string> argv) {
      RunResult r = RunCommand(argv);
      EXPECT_EQ(r.exit_code, 0) << argv[1] << ": " << r.err;
    };
    const std::vector<std::string> ec = {"-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"};
    auto with = [&](std::vector<std::string> a, const std::vector<std::string>& b) {
      a.insert(a.begin() + 2, b.begin(), b.end());
      return a;
    };
    run(with({"openssl", "req", "-x509", "-keyout", dir.Join("ca.key"), "-out", ca, "-days", "2", "-subj",
              "/CN=edgeloop test CA"},
             ec));
    run(with({"openssl", "req", "-x509", "-keyout", dir.Join("other.key"), "-out", other_ca, "-days", "2", "-subj",
              "/CN=another CA"},
             ec));
    run(with({"openssl", "req", "-keyout", key, "-out", dir.Join("server.csr"), "-subj", "/CN=127.0.0.1"}, ec));
    run({"openssl", "x509", "-req", "-in", dir.Join("server.csr"), "-CA", ca, "-CAkey", dir.Join("ca.key"),
         "-CAcreateserial", "-out", cert, "-days", "2", "-extfile", ext});
  }
  std::string ca, cert, key, other_ca;
};

TEST(ServeTls, PublishAndDownloadVerifyTheCertificate) {
  testing_support::TempDir dir;
  TestPki pki(dir);
  const std::string data = dir.Join("data");
  ASSERT_EQ(Edgeloop({"keys", "init", "--data", data}).exit_code, 0);
  const std::string token = Trimmed(Edgeloop({"token", "create", "--data", data, "--role", "admin"}).out);
  ServeProcess serve(data, {"--tls-cert", pki.cert, "--tls-key", pki.key});
  const std::string url = "https://127.0.0.1:" + std::to_string(serve.port());

  registry::ClientOptions o;
  o.server_url = url;
  o.token = token;
  o.ca_file = pki.ca;
  auto client = registry::RegistryClient::Create(o);
  ASSERT_TRUE(client.ok());
  const std::string bytes = registry::testing::TfliteModelBytes(200000, 5);
  auto manifest = (*client)->PublishBytes("vib", bytes, {});
  ASSERT_TRUE(manifest.ok()) << manifest.status().ToString();
  ASSERT_TRUE((*client)->DownloadArtifact("vib", 1, dir.Join("vib.tflite")).ok());
  EXPECT_EQ(*Env::Default()->ReadFile(dir.Join("vib.tflite")), bytes);

  // The system store does not know our CA, and another CA is not ours: both are refused.
  for (const std::string& ca : {std::string(), pki.other_ca}) {
    o.ca_file = ca;
    auto untrusting = registry::RegistryClient::Create(o);
    ASSERT_TRUE(untrusting.ok());
    auto r = (*untrusting)->ListModels();
    ASSERT_FALSE(r.ok()) << "ca '" << ca << "' must not be trusted";
    EXPECT_EQ(r.status().code(), StatusCode::kPermissionDenied) << r.status().ToString();
    EXPECT_NE(r.status().message().find("not trusted"), std::string::npos) << r.status().ToString();
  }
  // Plain HTTP to the TLS port fails rather than silently downgrading.
  o.server_url = "http://127.0.0.1:" + std::to_string(serve.port());
  o.ca_file.clear();
  EXPECT_FALSE((*registry::RegistryClient::Create(o))->ListModels().ok());

  // The CLI: --ca-file or EDGELOOP_CA_FILE; without either it refuses with a hint.
  ASSERT_TRUE(Env::Default()->WriteFileAtomic(dir.Join("m.tflite"), bytes).ok());
  RunResult ok = Edgeloop({"publish", dir.Join("m.tflite"), "--name", "vib", "--server", url, "--token", token,
                           "--ca-file", pki.ca});
  EXPECT_EQ(ok.exit_code, 0) << ok.err;
  RunResult via_env = Edgeloop({"models", "list"}, {"EDGELOOP_SERVER=" + url, "EDGELOOP_TOKEN=" + token,
                                                     "EDGELOOP_CA_FILE=" + pki.ca});
  EXPECT_EQ(via_env.exit_code, 0) << via_env.err;
  RunResult untrusted = Edgeloop({"models", "list", "--server", url, "--token", token});
  EXPECT_EQ(untrusted.exit_code, 1);
  EXPECT_NE(untrusted.err.find("--ca-file"), std::string::npos) << untrusted.err;
}

}  // namespace
}  // namespace edgeloop
