#include <gtest/gtest.h>

#include <string>

#include "edgeloop/tflite/model.h"

namespace edgeloop::tflite {
namespace {

TEST(ModelNames, KnownOpsUseTheSchemaNames) {
  EXPECT_STREQ(BuiltinOpName(BuiltinOp::kConv2D), "CONV_2D");
  EXPECT_STREQ(BuiltinOpName(BuiltinOp::kDepthwiseConv2D), "DEPTHWISE_CONV_2D");
  EXPECT_STREQ(BuiltinOpName(BuiltinOp::kStridedSlice), "STRIDED_SLICE");
  EXPECT_STREQ(BuiltinOpName(BuiltinOp::kQuantize), "QUANTIZE");
}

TEST(ModelNames, UnknownOpsAreNamedByNumber) {
  EXPECT_STREQ(BuiltinOpName(static_cast<BuiltinOp>(150)), "BUILTIN_OP_150");
  EXPECT_STREQ(BuiltinOpName(static_cast<BuiltinOp>(-3)), "BUILTIN_OP_OUT_OF_RANGE");
  // The pointer stays valid and stable.
  EXPECT_EQ(BuiltinOpName(static_cast<BuiltinOp>(99)), BuiltinOpName(static_cast<BuiltinOp>(99)));
}

TEST(ModelNames, TypesActivationsPaddings) {
  EXPECT_STREQ(TensorTypeName(TensorType::kInt8), "INT8");
  EXPECT_STREQ(TensorTypeName(TensorType::kFloat32), "FLOAT32");
  EXPECT_STREQ(TensorTypeName(static_cast<TensorType>(42)), "UNKNOWN_TYPE");
  EXPECT_STREQ(ActivationName(Activation::kRelu6), "RELU6");
  EXPECT_STREQ(PaddingName(Padding::kSame), "SAME");
  EXPECT_STREQ(PaddingName(Padding::kValid), "VALID");
}

TEST(ModelNames, TypeSizes) {
  EXPECT_EQ(TensorTypeSize(TensorType::kFloat32), 4);
  EXPECT_EQ(TensorTypeSize(TensorType::kInt8), 1);
  EXPECT_EQ(TensorTypeSize(TensorType::kInt64), 8);
  EXPECT_EQ(TensorTypeSize(TensorType::kString), 0);
  EXPECT_EQ(TensorTypeSize(static_cast<TensorType>(42)), 0);
}

TEST(ModelNumElements, ProductOverflowAndNegative) {
  EXPECT_EQ(NumElements({}), 1);
  EXPECT_EQ(NumElements({1, 128, 3}), 384);
  EXPECT_EQ(NumElements({4, 0, 7}), 0);
  EXPECT_EQ(NumElements({-1, 4}), -1);
  EXPECT_EQ(NumElements({65536, 65536}), -1);
}

TEST(ModelLabels, NameTheTensorAndOperator) {
  Graph g;
  g.tensors.resize(2);
  g.tensors[1].name = "conv1/weights";
  g.operators.resize(1);
  g.operators[0].op = BuiltinOp::kConv2D;
  EXPECT_EQ(TensorLabel(g, 1), "tensor 1 ('conv1/weights')");
  EXPECT_EQ(TensorLabel(g, 9), "tensor 9");
  EXPECT_EQ(OperatorLabel(g, 0), "operator 0 (CONV_2D)");
  EXPECT_EQ(ShapeToString({16, 1, 3, 1}), "[16,1,3,1]");
  EXPECT_EQ(ShapeToString({}), "[]");
}

}  // namespace
}  // namespace edgeloop::tflite
