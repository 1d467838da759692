// Every fixture case (real converter-written models, outputs recorded from TFLite's reference
// kernels): INT8 outputs byte for byte, float32 within 1e-5.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>

#include "edgeloop/runtime/interpreter.h"
#include "test/support/fixture_cases.h"

namespace edgeloop::runtime {
namespace {

using testing_support::FixtureCase;
using testing_support::FixtureDir;
using testing_support::ReadBytes;

void RunCase(const FixtureCase& c, KernelSet kernels) {
  SCOPED_TRACE(c.input);
  const std::vector<uint8_t> model = ReadBytes(FixtureDir() + "/" + c.model);
  InterpreterOptions options;
  options.kernels = kernels;
  auto interp = Interpreter::CreateFromBytes(model, options);
  ASSERT_TRUE(interp.ok()) << interp.status().ToString();
  const std::vector<uint8_t> input = ReadBytes(FixtureDir() + "/" + c.input);
  const std::vector<uint8_t> expected = ReadBytes(FixtureDir() + "/" + c.expected);
  TensorInfo in = (*interp)->input(0);
  ASSERT_EQ(in.bytes, input.size());
  std::memcpy(in.data, input.data(), input.size());
  ASSERT_TRUE((*interp)->Invoke().ok());
  TensorInfo out = (*interp)->output(0);
  ASSERT_EQ(out.bytes, expected.size());
  if (c.dtype == "int8") {
    for (size_t i = 0; i < expected.size(); ++i) {
      EXPECT_EQ(static_cast<int8_t>(out.data[i]), static_cast<int8_t>(expected[i])) << "byte " << i;
    }
  } else {
    ASSERT_EQ(c.dtype, "float32");
    std::vector<float> got(expected.size() / 4), want(expected.size() / 4);
    std::memcpy(got.data(), out.data, expected.size());
    std::memcpy(want.data(), expected.data(), expected.size());
    for (size_t i = 0; i < want.size(); ++i) EXPECT_NEAR(got[i], want[i], 1e-5f) << "value " << i;
  }
}

TEST(RuntimeFixtures, AllCasesMatchTfliteReference) {
  const auto cases = testing_support::LoadFixtureCases();
  ASSERT_EQ(cases.size(), 24u);
  int int8_cases = 0;
  for (const FixtureCase& c : cases) {
    RunCase(c, KernelSet::kReference);
    int8_cases += c.dtype == "int8";
  }
  EXPECT_EQ(int8_cases, 16);
}

TEST(RuntimeFixtures, AutoKernelsMatchToo) {
  for (const FixtureCase& c : testing_support::LoadFixtureCases()) RunCase(c, KernelSet::kAuto);
}

}  // namespace
}  // namespace edgeloop::runtime
