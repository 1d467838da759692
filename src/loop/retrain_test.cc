// The retrain gate with real training and quantization: a candidate that beats the champion by the
// margin is accepted; with a margin it cannot meet it is refused; both decisions are recorded.
#include "edgeloop/loop/retrain.h"

#include <gtest/gtest.h>

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
  auto ds = (*st)->RetrainDecisions(10);
  ASSERT_EQ(ds->size(), 2u);
  EXPECT_EQ((*ds)[0].decision, "refused");
  EXPECT_EQ((*ds)[1].decision, "accepted");
  EXPECT_EQ((*ds)[1].champion_version, 3);
}

}  // namespace
}  // namespace edgeloop::loop
