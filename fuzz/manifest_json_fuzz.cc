// Fuzzes what a device runs on the manifest bytes a registry (or anyone on the path) sends it
// (include/edgeloop/registry/manifest.h): parse, canonicalise, verify the signature and the
// acceptance rules. It must never crash, hang or leak; a manifest that parses must canonicalise
// the same after a round trip; and a signature made by a key the device does not trust must
// never verify.
#include <cstdint>
#include <cstdlib>
#include <string>

#include "edgeloop/registry/manifest.h"

namespace {

void Check(bool ok) {
  if (!ok) std::abort();
}

const edgeloop::registry::SigningKey& TrustedKey() {
  static auto* key = new edgeloop::registry::SigningKey(edgeloop::registry::SigningKey::Generate());
  return *key;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace edgeloop::registry;
  const std::string text(reinterpret_cast<const char*>(data), size);
  const std::string trusted = TrustedKey().PublicKeyHex();

  (void)CanonicalizeJson(text);
  (void)ParseRfc3339(text);
  auto m = ManifestFromJson(text);
  if (!m.ok()) return 0;

  auto again = ManifestFromJson(ManifestToJson(*m));
  Check(again.ok());
  Check(CanonicalManifest(*again) == CanonicalManifest(*m));
  Check(again->signature == m->signature);
  // Random bytes cannot carry a valid signature by a key generated in this process.
  Check(!VerifyManifest(*m, trusted).ok());
  (void)CheckManifestAcceptable(*m, 0, 1'800'000'000'000);

  // Signed with the trusted key, it verifies; change one signed field and it must not.
  Manifest signed_copy = *m;
  SignManifest(&signed_copy, TrustedKey());
  Check(VerifyManifest(signed_copy, trusted).ok());
  signed_copy.version ^= 1;
  Check(!VerifyManifest(signed_copy, trusted).ok());
  return 0;
}
