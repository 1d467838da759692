#include <gtest/gtest.h>

#include <limits>
#include <set>

#include "edgeloop/data/dataset.h"

namespace edgeloop::data {
namespace {

Dataset Make(int n_per_class, int classes) {
  Dataset d;
  d.length = 2;
  d.channels = 1;
  for (int c = 0; c < classes; ++c) d.labels.push_back(std::string(1, 'c').append(std::to_string(c)));
  for (int i = 0; i < n_per_class * classes; ++i) {
    d.Add(std::vector<float>{static_cast<float>(i), static_cast<float>(-i)}, i % classes);
  }
  return d;
}

TEST(Dataset, ValidateCatchesInconsistencies) {
  Dataset d = Make(3, 2);
  EXPECT_TRUE(d.Validate().ok());
  d.y[1] = 5;
  EXPECT_NE(d.Validate().message().find("window 1: label index 5"), std::string::npos);
  d = Make(3, 2);
  d.x.pop_back();
  EXPECT_FALSE(d.Validate().ok());
  d = Make(3, 2);
  d.x[3] = std::numeric_limits<float>::quiet_NaN();
  EXPECT_NE(d.Validate().message().find("window 1, reading 1"), std::string::npos);
  d = Make(3, 2);
  d.labels[1] = "c0";
  EXPECT_NE(d.Validate().message().find("duplicate"), std::string::npos);
}

TEST(Dataset, StratifiedSplitKeepsClassShares) {
  Dataset d = Make(100, 3);
  d.Add(std::vector<float>{1, 1}, 0);  // 101 / 100 / 100
  auto s = StratifiedSplit(d, 0.2, 7);
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(ClassCounts(s->validation), (std::vector<int64_t>{20, 20, 20}));
  EXPECT_EQ(ClassCounts(s->train), (std::vector<int64_t>{81, 80, 80}));
  // Disjoint and complete: the first reading identifies a window.
  std::set<float> all;
  for (const Dataset* part : {&s->train, &s->validation}) {
    for (size_t i = 0; i < part->size(); ++i) all.insert(part->window(i)[0] * 1000 + part->window(i)[1]);
  }
  EXPECT_EQ(all.size(), d.size());
  // Same seed, same split; another seed, another one.
  auto again = StratifiedSplit(d, 0.2, 7);
  EXPECT_EQ(again->validation.x, s->validation.x);
  auto other = StratifiedSplit(d, 0.2, 8);
  EXPECT_NE(other->validation.x, s->validation.x);
}

TEST(Dataset, SplitEdgeCases) {
  Dataset d = Make(1, 2);  // one window per class
  auto s = StratifiedSplit(d, 0.5, 1);
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(s->train.size(), 2u);  // a single window stays in training
  EXPECT_FALSE(StratifiedSplit(d, 1.0, 1).ok());
  EXPECT_FALSE(StratifiedSplit(d, -0.1, 1).ok());
  auto none = StratifiedSplit(d, 0.0, 1);
  ASSERT_TRUE(none.ok());
  EXPECT_EQ(none->validation.size(), 0u);
}

TEST(Dataset, ShuffleSampleAndConcat) {
  Dataset d = Make(10, 2);
  Dataset a = d;
  Shuffle(&a, 3);
  Dataset b = d;
  Shuffle(&b, 3);
  EXPECT_EQ(a.x, b.x);
  EXPECT_NE(a.x, d.x);
  EXPECT_EQ(ClassCounts(a), ClassCounts(d));
  Dataset s = Sample(d, 5, 9);
  EXPECT_EQ(s.size(), 5u);
  EXPECT_EQ(Sample(d, 100, 9).size(), d.size());

  Dataset other;
  other.length = 2;
  other.labels = {"new", "c1"};
  other.Add(std::vector<float>{9, 9}, 0);
  other.Add(std::vector<float>{8, 8}, 1);
  auto c = Concat(d, other);
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->labels, (std::vector<std::string>{"c0", "c1", "new"}));
  EXPECT_EQ(c->y[d.size()], 2);
  EXPECT_EQ(c->y[d.size() + 1], 1);
  EXPECT_TRUE(c->Validate().ok());
  other.length = 3;
  EXPECT_FALSE(Concat(d, other).ok());
}

TEST(Dataset, CanonicalLabelOrder) {
  EXPECT_EQ(CanonicalLabelOrder({"failure", "normal", "warning"}),
            (std::vector<std::string>{"normal", "warning", "failure"}));
  EXPECT_EQ(CanonicalLabelOrder({"failure", "normal"}), (std::vector<std::string>{"normal", "failure"}));
  EXPECT_EQ(CanonicalLabelOrder({"normal", "bearing", "failure"}),
            (std::vector<std::string>{"bearing", "failure", "normal"}));
  EXPECT_EQ(CanonicalLabelOrder({"10", "-1", "2", "2"}), (std::vector<std::string>{"-1", "2", "10"}));
}

}  // namespace
}  // namespace edgeloop::data
