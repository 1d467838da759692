// The TFLite conformance fixtures in test/data/tflite/fixtures/: converter-written models and the
// output bytes TFLite's reference kernels give for recorded inputs (cases.json). Header-only, no
// JSON library: cases.json is a flat list of objects with string values.
#ifndef EDGELOOP_TEST_SUPPORT_FIXTURE_CASES_H_
#define EDGELOOP_TEST_SUPPORT_FIXTURE_CASES_H_

#include <cstdint>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "test/support/temp_dir.h"

namespace edgeloop::testing_support {

struct FixtureCase {
  std::string model;     // file name, e.g. "hello_world_int8.tflite"
  std::string input;     // path relative to the fixtures directory
  std::string expected;  // ditto
  std::string dtype;     // "int8" or "float32"
};

inline std::string FixtureDir() { return SourceDir() + "/test/data/tflite/fixtures"; }

inline std::vector<uint8_t> ReadBytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::vector<uint8_t>((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

// The value of "key": "value" in `object`, or "".
inline std::string JsonStringField(const std::string& object, const std::string& key) {
  const size_t k = object.find("\"" + key + "\"");
  if (k == std::string::npos) return "";
  const size_t open = object.find('"', object.find(':', k) + 1);
  const size_t close = object.find('"', open + 1);
  if (open == std::string::npos || close == std::string::npos) return "";
  return object.substr(open + 1, close - open - 1);
}

inline std::vector<FixtureCase> LoadFixtureCases() {
  const std::vector<uint8_t> raw = ReadBytes(FixtureDir() + "/cases.json");
  const std::string text(raw.begin(), raw.end());
  std::vector<FixtureCase> cases;
  size_t pos = 0;
  while ((pos = text.find('{', pos)) != std::string::npos) {
    const size_t end = text.find('}', pos);
    if (end == std::string::npos) break;
    const std::string object = text.substr(pos, end - pos + 1);
    cases.push_back({JsonStringField(object, "model"), JsonStringField(object, "input"),
                     JsonStringField(object, "expected_output"), JsonStringField(object, "dtype")});
    pos = end + 1;
  }
  return cases;
}

}  // namespace edgeloop::testing_support

#endif  // EDGELOOP_TEST_SUPPORT_FIXTURE_CASES_H_
