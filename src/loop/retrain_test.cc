// The retrain gate with real training and quantization: a candidate that beats the champion by the
// margin is accepted; with a margin it cannot meet it is refused; both decisions are recorded.
#include "edgeloop/loop/retrain.h"

#include <gtest/gtest.h>

#include <signal.h>

#include <filesystem>

#include "edgeloop/registry/client.h"
#include "test/support/process.h"
#include "test/support/temp_dir.h"

namespace edgeloop::loop {
namespace {

using testing_support::BinaryPath;
using testing_support::RunCommand;
using testing_support::TempDir;

void Edgeloop(const std::vector<std::string>& args) {
  std::vector<std::string> argv = {BinaryPath("edgeloop")};
  argv.insert(argv.end(), args.begin(), args.end());
  auto r = RunCommand(argv, 300000);
  ASSERT_EQ(r.exit_code, 0) << r.err;
}

TEST(Retrain, GateAcceptsABetterCandidateAndRefusesWhenTheMarginIsNotMet) {
  TempDir dir;
  Edgeloop({"data", "generate", "--kind", "gaussian", "--samples", "1500", "--seed", "1", "-o", dir.Join("orig.csv")});
  Edgeloop({"data", "generate", "--kind", "gaussian", "--samples", "400", "--seed", "2", "-o", dir.Join("golden.csv")});
  Edgeloop({"data", "generate", "--kind", "gaussian", "--samples", "40", "--seed", "3", "-o", dir.Join("tiny.csv")});
  // A weak champion: one epoch on 40 windows.
  Edgeloop({"train", dir.Join("tiny.csv"), "--epochs", "1", "--seed", "1", "-o", dir.Join("champion.tflite")});
  auto st = store::Store::Open(dir.Join("s.db"));
  ASSERT_TRUE(st.ok());
  RetrainOptions o;
  o.original_csv = dir.Join("orig.csv");
  o.golden_csv = dir.Join("golden.csv");
  o.champion_path = dir.Join("champion.tflite");
  o.champion_version = 3;
  o.work_dir = dir.Join("work");
  o.epochs = 15;
  o.margin = 0.02;
  auto better = Retrain(**st, o);
  ASSERT_TRUE(better.ok()) << better.status().ToString();
  EXPECT_EQ(better->decision.decision, "accepted") << better->decision.reason;
  EXPECT_GT(better->decision.candidate_accuracy, better->decision.champion_accuracy + 0.02);
  EXPECT_EQ(better->training_windows, 1500);
  o.margin = 1.0;  // no model beats another by 100 points
  auto refused = Retrain(**st, o);
  ASSERT_TRUE(refused.ok()) << refused.status().ToString();
  EXPECT_EQ(refused->decision.decision, "refused");
  // A worse candidate (one epoch) against the good model as champion: refused at margin 0.
  std::filesystem::copy_file(better->candidate_path, dir.Join("good.tflite"));
  o.champion_path = dir.Join("good.tflite");
  o.margin = 0;
  o.epochs = 1;
  o.work_dir = dir.Join("work2");
  Edgeloop({"data", "generate", "--kind", "gaussian", "--samples", "30", "--seed", "4", "-o", dir.Join("tiny2.csv")});
  o.original_csv = dir.Join("tiny2.csv");
  auto worse = Retrain(**st, o);
  ASSERT_TRUE(worse.ok()) << worse.status().ToString();
  EXPECT_EQ(worse->decision.decision, "refused") << worse->decision.reason;
  EXPECT_LT(worse->decision.candidate_accuracy, worse->decision.champion_accuracy);
  auto ds = (*st)->RetrainDecisions(10);
  ASSERT_EQ(ds->size(), 3u);
  EXPECT_EQ((*ds)[0].decision, "refused");
  EXPECT_EQ((*ds)[1].decision, "refused");
  EXPECT_EQ((*ds)[2].decision, "accepted");
  EXPECT_EQ((*ds)[2].champion_version, 3);
}

TEST(Retrain, ABetterCandidateIsPublishedToCanary) {
  TempDir dir;
  const std::string data = dir.Join("data");
  Edgeloop({"keys", "init", "--data", data});
  auto tok = RunCommand({BinaryPath("edgeloop"), "token", "create", "--data", data, "--role", "admin", "--name", "loop"});
  ASSERT_EQ(tok.exit_code, 0) << tok.err;
  std::string token = tok.out;
  while (!token.empty() && token.back() == '\n') token.pop_back();
  int port = testing_support::FreePort();
  testing_support::ProcessOptions po;
  po.stdout_path = dir.Join("serve.log");
  po.stderr_path = "stdout";
  testing_support::Process serve({BinaryPath("edgeloop"), "serve", "--data", data, "--listen",
                                  "127.0.0.1:" + std::to_string(port)},
                                 po);
  ASSERT_TRUE(testing_support::WaitForPort(port, 20000));
  Edgeloop({"data", "generate", "--kind", "gaussian", "--samples", "1500", "--seed", "1", "-o", dir.Join("orig.csv")});
  Edgeloop({"data", "generate", "--kind", "gaussian", "--samples", "400", "--seed", "2", "-o", dir.Join("golden.csv")});
  Edgeloop({"data", "generate", "--kind", "gaussian", "--samples", "40", "--seed", "3", "-o", dir.Join("tiny.csv")});
  Edgeloop({"train", dir.Join("tiny.csv"), "--epochs", "1", "--seed", "1", "-o", dir.Join("champion.tflite")});
  auto st = store::Store::Open(dir.Join("s.db"));
  ASSERT_TRUE(st.ok());
  RetrainOptions o;
  o.original_csv = dir.Join("orig.csv");
  o.golden_csv = dir.Join("golden.csv");
  o.champion_path = dir.Join("champion.tflite");
  o.work_dir = dir.Join("work");
  o.epochs = 15;
  o.margin = 0.02;
  o.server_url = "http://127.0.0.1:" + std::to_string(port);
  o.token = token;
  o.canary_share = 0.25;
  auto r = Retrain(**st, o);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->decision.decision, "published_canary") << r->decision.reason;
  EXPECT_EQ(r->decision.candidate_version, 1);
  auto ch = RunCommand({BinaryPath("edgeloop"), "models", "list", "--server", o.server_url, "--token", token});
  EXPECT_EQ(ch.exit_code, 0) << ch.err;
  EXPECT_NE(ch.out.find("vib"), std::string::npos) << ch.out;

  // The canary period: v1 is canary, stable is unset -> promote needs a stable to compare with;
  // publish the champion as stable v2, then make v3 canary from the candidate again.
  auto pub = RunCommand({BinaryPath("edgeloop"), "publish", dir.Join("champion.tflite"), "--name", "vib", "--channel",
                         "stable", "--server", o.server_url, "--token", token});
  ASSERT_EQ(pub.exit_code, 0) << pub.err;
  auto pub3 = RunCommand({BinaryPath("edgeloop"), "publish", r->candidate_path, "--name", "vib", "--channel", "canary",
                          "--share", "0.5", "--server", o.server_url, "--token", token});
  ASSERT_EQ(pub3.exit_code, 0) << pub3.err;
  auto results = [&](int64_t version, float conf, int n, const std::string& dev) {
    store::Batch b;
    for (int i = 1; i <= n; ++i) {
      store::StoredResult sr;
      sr.fleet = "f";
      sr.msg.device_id = dev;
      sr.msg.seq = i;
      sr.msg.timestamp_ms = 1000 + i;
      sr.msg.prediction = "normal";
      sr.msg.confidence = conf;
      sr.msg.inference_ms = 0.05;
      sr.msg.model = {"vib", version};
      b.results.push_back(sr);
    }
    ASSERT_TRUE((*st)->Write(b, nullptr).ok());
  };
  CanaryOptions co;
  co.server_url = o.server_url;
  co.token = token;
  co.min_results = 50;
  results(2, 0.90f, 100, "stable-dev");
  results(3, 0.50f, 20, "canary-dev");
  auto held = CheckCanary(**st, co);
  ASSERT_TRUE(held.ok()) << held.status().ToString();
  EXPECT_EQ(held->decision, "held") << held->reason;
  results(3, 0.50f, 100, "canary-dev2");  // a regression: confidence 0.5 against 0.9
  auto rb = CheckCanary(**st, co);
  ASSERT_TRUE(rb.ok());
  EXPECT_EQ(rb->decision, "rolled_back") << rb->reason;
  // A healthy canary (v4) is promoted to stable.
  auto pub4 = RunCommand({BinaryPath("edgeloop"), "publish", r->candidate_path, "--name", "vib", "--channel", "canary",
                          "--server", o.server_url, "--token", token});
  ASSERT_EQ(pub4.exit_code, 0) << pub4.err;
  results(4, 0.91f, 100, "canary-dev3");
  auto pr = CheckCanary(**st, co);
  ASSERT_TRUE(pr.ok());
  EXPECT_EQ(pr->decision, "promoted") << pr->reason;
  auto client = std::move(registry::RegistryClient::Create({o.server_url, token, "", 30})).value();
  EXPECT_EQ(client->GetChannel("vib", "stable")->version, 4);
  serve.Signal(SIGTERM);
  serve.Wait(20000);
}

}  // namespace
}  // namespace edgeloop::loop
