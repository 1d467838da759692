#include "edgeloop/common/status.h"

#include <gtest/gtest.h>

namespace edgeloop {
namespace {

Result<int> ParsePositive(int v) {
  if (v <= 0) return Status::InvalidArgument("value " + std::to_string(v) + " is not positive");
  return v;
}

Result<int> Doubled(int v) {
  EL_ASSIGN_OR_RETURN(int x, ParsePositive(v));
  return 2 * x;
}

Status CheckBoth(int a, int b) {
  EL_RETURN_IF_ERROR(ParsePositive(a).status());
  EL_RETURN_IF_ERROR(ParsePositive(b).status());
  return Status::Ok();
}

TEST(Status, CodesAndMessages) {
  EXPECT_TRUE(Status().ok());
  EXPECT_EQ(Status().ToString(), "OK");
  Status s = Status::Corruption("model.tflite: bad identifier");
  EXPECT_FALSE(s.ok());
  EXPECT_EQ(s.code(), StatusCode::kCorruption);
  EXPECT_EQ(s.ToString(), "Corruption: model.tflite: bad identifier");
  EXPECT_EQ(s.WithPrefix("loading").message(), "loading: model.tflite: bad identifier");
  EXPECT_TRUE(Status().WithPrefix("x").ok());
}

TEST(Status, ResultPropagates) {
  EXPECT_EQ(*Doubled(4), 8);
  Result<int> bad = Doubled(-1);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(bad.status().message(), "value -1 is not positive");
  EXPECT_TRUE(CheckBoth(1, 2).ok());
  EXPECT_EQ(CheckBoth(1, 0).message(), "value 0 is not positive");
}

}  // namespace
}  // namespace edgeloop
