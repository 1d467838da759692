// Fuzzes the model spec reader (`edgeloop train --model spec.json`, include/edgeloop/nn/spec_json.h)
// and the shape rules behind it (ResolveSpec): never a crash, hang or leak (int overflow in shape
// arithmetic is caught by UBSan); errors name the file; and a spec that parses writes back to
// JSON that parses to the same canonical form.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "edgeloop/nn/spec.h"
#include "edgeloop/nn/spec_json.h"

namespace {

void Check(bool ok) {
  if (!ok) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace edgeloop::nn;
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto spec = ModelSpecFromJson(text, "spec.json");
  if (!spec.ok()) {
    Check(spec.status().message().find("spec.json") != std::string::npos);
    return 0;
  }
  const std::string json = ModelSpecToJson(*spec);
  auto again = ModelSpecFromJson(json, "again.json");
  Check(again.ok());
  Check(ModelSpecToJson(*again) == json);

  ModelSpec resolved = *spec;
  if (resolved.length <= 0 || resolved.length > 1 << 16) resolved.length = 128;
  if (resolved.channels <= 0 || resolved.channels > 64) resolved.channels = 1;
  (void)ResolveSpec(&resolved, 3);
  return 0;
}
