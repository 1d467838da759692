#include "edgeloop/common/flags.h"

#include <gtest/gtest.h>

namespace edgeloop {
namespace {

struct Args {
  explicit Args(std::vector<std::string> v) : strings(std::move(v)) {
    for (auto& s : strings) ptrs.push_back(s.data());
  }
  int argc() { return static_cast<int>(ptrs.size()); }
  char** argv() { return ptrs.data(); }
  std::vector<std::string> strings;
  std::vector<char*> ptrs;
};

TEST(Flags, ParsesAllKinds) {
  std::string out = "default.tflite";
  int64_t epochs = 50;
  double rate = 0.5;
  bool json = false;
  std::vector<std::string> tags;
  Flags f("edgeloop train data.csv -o model.tflite", "Trains.");
  f.String("--output", &out, "output file", "-o");
  f.Int("--epochs", &epochs, "epochs");
  f.Double("--rate", &rate, "rate");
  f.Bool("--json", &json, "json");
  f.List("--tag", &tags, "tags");
  Args a({"edgeloop train", "data.csv", "-o", "m.tflite", "--epochs=7", "--rate", "0.25", "--json", "--tag", "x",
          "--tag=y"});
  ASSERT_TRUE(f.Parse(a.argc(), a.argv()).ok());
  EXPECT_EQ(out, "m.tflite");
  EXPECT_EQ(epochs, 7);
  EXPECT_DOUBLE_EQ(rate, 0.25);
  EXPECT_TRUE(json);
  EXPECT_EQ(tags, (std::vector<std::string>{"x", "y"}));
  EXPECT_EQ(f.positional(), std::vector<std::string>{"data.csv"});
  EXPECT_TRUE(f.WasSet("--epochs"));
  EXPECT_TRUE(f.ExpectPositional(1, 1, "data file").ok());
  EXPECT_NE(f.Help().find("--epochs N"), std::string::npos);
}

TEST(Flags, ErrorsNameTheFlag) {
  int64_t n = 0;
  Flags f("x", "");
  f.Int("--samples", &n, "samples");
  Args bad({"x", "--samples", "12a"});
  Status s = f.Parse(bad.argc(), bad.argv());
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("--samples"), std::string::npos);
  Flags g("x", "");
  Args unknown({"x", "--nope"});
  EXPECT_NE(g.Parse(unknown.argc(), unknown.argv()).message().find("--nope"), std::string::npos);
  Flags h("x", "");
  h.Int("--samples", &n, "samples");
  Args missing({"x", "--samples"});
  EXPECT_FALSE(h.Parse(missing.argc(), missing.argv()).ok());
  EXPECT_FALSE(h.ExpectPositional(1, 1, "data file").ok());
}

}  // namespace
}  // namespace edgeloop
