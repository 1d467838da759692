// The C API, linked against the -fno-exceptions -fno-rtti build of the core: every fixture case
// through el_* calls (INT8 byte for byte, float32 within 1e-5), accessors, and errors.
#include "edgeloop/runtime/c_api.h"

#include <gtest/gtest.h>

#include <cstring>
#include <string>

#include "test/support/fixture_cases.h"

extern "C" long el_smoke_run_zero(const void* bytes, size_t size);

namespace {

using edgeloop::testing_support::FixtureDir;
using edgeloop::testing_support::ReadBytes;

TEST(CApi, FixturesThroughTheCApi) {
  const auto cases = edgeloop::testing_support::LoadFixtureCases();
  ASSERT_EQ(cases.size(), 24u);
  for (const auto& c : cases) {
    SCOPED_TRACE(c.input);
    const std::vector<uint8_t> model = ReadBytes(FixtureDir() + "/" + c.model);
    el_model* m = el_model_load(model.data(), model.size());
    ASSERT_NE(m, nullptr) << el_last_error();
    const std::vector<uint8_t> input = ReadBytes(FixtureDir() + "/" + c.input);
    const std::vector<uint8_t> expected = ReadBytes(FixtureDir() + "/" + c.expected);
    const el_tensor* in = el_input(m, 0);
    ASSERT_EQ(el_tensor_bytes(in), input.size());
    std::memcpy(el_tensor_data(in), input.data(), input.size());
    ASSERT_EQ(el_invoke(m), 0) << el_last_error();
    const el_tensor* out = el_output(m, 0);
    ASSERT_EQ(el_tensor_bytes(out), expected.size());
    const auto* got = static_cast<const uint8_t*>(el_tensor_data(out));
    if (c.dtype == "int8") {
      EXPECT_EQ(el_tensor_type(out), EL_INT8);
      EXPECT_EQ(std::vector<uint8_t>(got, got + expected.size()), expected);
    } else {
      EXPECT_EQ(el_tensor_type(out), EL_FLOAT32);
      for (size_t i = 0; i < expected.size() / 4; ++i) {
        float g, w;
        std::memcpy(&g, got + 4 * i, 4);
        std::memcpy(&w, expected.data() + 4 * i, 4);
        EXPECT_NEAR(g, w, 1e-5f);
      }
    }
    el_model_free(m);
  }
}

TEST(CApi, TensorAccessorsDescribeTheModel) {
  const std::vector<uint8_t> model = ReadBytes(FixtureDir() + "/micro_speech_quantized.tflite");
  el_model* m = el_model_load_batch(model.data(), model.size(), 2);
  ASSERT_NE(m, nullptr) << el_last_error();
  EXPECT_EQ(el_input_count(m), 1);
  EXPECT_EQ(el_output_count(m), 1);
  const el_tensor* in = el_input(m, 0);
  EXPECT_EQ(el_tensor_type(in), EL_INT8);
  EXPECT_EQ(el_tensor_rank(in), 2);
  EXPECT_EQ(el_tensor_dim(in, 0), 2);
  EXPECT_EQ(el_tensor_dim(in, 1), 1960);
  EXPECT_EQ(el_tensor_dim(in, 2), -1);
  EXPECT_GT(el_tensor_scale(in), 0.0f);
  EXPECT_EQ(el_tensor_zero_point(in), -128);
  EXPECT_STREQ(el_tensor_name(in), "Reshape_1");
  const el_tensor* out = el_output(m, 0);
  EXPECT_EQ(el_tensor_bytes(out), 8u);
  EXPECT_FLOAT_EQ(el_tensor_scale(out), 1.0f / 256);
  EXPECT_GT(el_model_arena_bytes(m), 2u * 1960u);
  EXPECT_EQ(el_input(m, 1), nullptr);
  EXPECT_NE(std::string(el_last_error()).find("no input 1"), std::string::npos);
  el_model_free(m);
  EXPECT_EQ(el_smoke_run_zero(model.data(), model.size()), 4);
}

TEST(CApi, BadBytesGiveNullAndAnError) {
  std::vector<uint8_t> model = ReadBytes(FixtureDir() + "/hello_world_int8.tflite");
  model.resize(100);
  EXPECT_EQ(el_model_load(model.data(), model.size()), nullptr);
  EXPECT_NE(std::string(el_last_error()).find("Corruption"), std::string::npos) << el_last_error();
  EXPECT_EQ(el_model_load(nullptr, 10), nullptr);
  EXPECT_EQ(el_smoke_run_zero("junk", 4), -1);
  EXPECT_NE(el_invoke(nullptr), 0);
}

}  // namespace
