#include "edgeloop/registry/manifest.h"

#include <gtest/gtest.h>

#include <bit>
#include <cstring>

#include "edgeloop/common/env.h"
#include "registry/canonical_json.h"
#include "test/support/temp_dir.h"

namespace edgeloop::registry {
namespace {

Manifest Sample() {
  Manifest m;
  m.name = "vibration-classifier";
  m.version = 3;
  m.sha256 = std::string(64, 'a');
  m.size = 43210;
  m.created = "2026-11-24T15:42:00Z";
  m.expires = "2099-01-01T00:00:00Z";
  m.metrics_json = R"({"val_accuracy":0.9875,"int8_accuracy":0.98})";
  return m;
}

// RFC 8785 appendix B: IEEE-754 bit patterns and their canonical text.
TEST(CanonicalJson, NumbersAsRfc8785) {
  struct Case {
    uint64_t bits;
    const char* text;
  } cases[] = {
      {0x0000000000000000, "0"},
      {0x8000000000000000, "0"},
      {0x0000000000000001, "5e-324"},
      {0x8000000000000001, "-5e-324"},
      {0x7fefffffffffffff, "1.7976931348623157e+308"},
      {0x4340000000000000, "9007199254740992"},
      {0x4430000000000000, "295147905179352830000"},
      {0x44b52d02c7e14af5, "9.999999999999997e+22"},
      {0x44b52d02c7e14af6, "1e+23"},
      {0x3eb0c6f7a0b5ed8d, "0.000001"},
      {0x3eb0c6f7a0b5ed8c, "9.999999999999997e-7"},
      {0x41b3de4355555555, "333333333.3333333"},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(FormatJsonNumber(std::bit_cast<double>(c.bits)), c.text) << std::hex << c.bits;
  }
}

TEST(CanonicalJson, SortsKeysAndStripsWhitespace) {
  auto c = CanonicalizeJson(R"({ "b": [1, 2.50, "x\ty"], "a": {"d": null, "c": true}, "\u20ac": 1, "\ud83d\ude00": 2, "\ufb33": 3 })");
  ASSERT_TRUE(c.ok());
  // U+1F600 (surrogates D83D DE00) sorts before U+FB33 by UTF-16 code units, after it by code point.
  EXPECT_EQ(*c, "{\"a\":{\"c\":true,\"d\":null},\"b\":[1,2.5,\"x\\ty\"],\"\xe2\x82\xac\":1,\"\xf0\x9f\x98\x80\":2,"
                "\"\xef\xac\xb3\":3}");
  EXPECT_FALSE(CanonicalizeJson("{oops").ok());
}

TEST(Manifest, SignVerifyAndTamper) {
  SigningKey key = SigningKey::Generate();
  Manifest m = Sample();
  SignManifest(&m, key);
  ASSERT_EQ(m.signature.size(), 128u);
  EXPECT_TRUE(VerifyManifest(m, key.PublicKeyHex()).ok());

  // Round trip through JSON keeps it verifiable.
  auto parsed = ManifestFromJson(ManifestToJson(m));
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
  EXPECT_TRUE(VerifyManifest(*parsed, key.PublicKeyHex()).ok());

  // Any change of any signed byte breaks it.
  std::string canonical = CanonicalManifest(m);
  std::string full = ManifestToJson(m);
  for (size_t i = 0; i < full.size(); ++i) {
    std::string t = full;
    t[i] = static_cast<char>(t[i] ^ 0x01);
    auto tm = ManifestFromJson(t);
    if (!tm.ok()) continue;  // no longer JSON: refused anyway
    if (tm->signature != m.signature && CanonicalManifest(*tm) == canonical) continue;  // only sig changed
    EXPECT_FALSE(VerifyManifest(*tm, key.PublicKeyHex()).ok()) << "flipped byte " << i << ": " << t;
  }
  Manifest other = m;
  other.version = 4;
  EXPECT_EQ(VerifyManifest(other, key.PublicKeyHex()).code(), StatusCode::kPermissionDenied);
  other = m;
  other.metrics_json = R"({"val_accuracy":0.99,"int8_accuracy":0.98})";
  EXPECT_FALSE(VerifyManifest(other, key.PublicKeyHex()).ok());
  // Wrong key, no signature, malformed signature.
  EXPECT_FALSE(VerifyManifest(m, SigningKey::Generate().PublicKeyHex()).ok());
  other = m;
  other.signature.clear();
  EXPECT_EQ(VerifyManifest(other, key.PublicKeyHex()).code(), StatusCode::kPermissionDenied);
  other.signature = "zz";
  EXPECT_EQ(VerifyManifest(other, key.PublicKeyHex()).code(), StatusCode::kPermissionDenied);
  EXPECT_EQ(VerifyManifest(m, "1234").code(), StatusCode::kInvalidArgument);
}

TEST(Manifest, RejectsUnknownAndMissingFields) {
  std::string j = ManifestToJson(Sample());
  std::string extra = j.substr(0, j.size() - 1) + ",\"channel\":\"stable\"}";
  auto r = ManifestFromJson(extra);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("channel"), std::string::npos);
  auto missing = ManifestFromJson(R"({"name":"x","version":1})");
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.status().message().find("sha256"), std::string::npos);
  EXPECT_FALSE(ManifestFromJson(R"({"name":"x","version":"1"})").ok());
}

// Found by manifest_json_fuzz: past 2^53 the signed (RFC 8785, IEEE double) form of version N
// equals that of N^1, so a signature for one version verified for another.
TEST(Manifest, RejectsVersionsAndSizesTheSignatureCannotPin) {
  SigningKey key = SigningKey::Generate();
  for (const char* field : {"version", "size"}) {
    for (const char* value : {"9007199254740993", "18446744073709551615", "-1"}) {
      std::string j = ManifestToJson(Sample());
      size_t at = j.find(std::string("\"") + field + "\":");
      ASSERT_NE(at, std::string::npos);
      size_t from = at + std::strlen(field) + 3, to = j.find_first_of(",}", from);
      j.replace(from, to - from, value);
      auto r = ManifestFromJson(j);
      ASSERT_FALSE(r.ok()) << field << "=" << value;
      EXPECT_NE(r.status().message().find(field), std::string::npos) << r.status().message();
    }
  }
  Manifest m = Sample();
  m.version = (int64_t{1} << 53) - 1;
  SignManifest(&m, key);
  auto back = ManifestFromJson(ManifestToJson(m));
  ASSERT_TRUE(back.ok()) << back.status().message();
  EXPECT_EQ(back->version, m.version);
  EXPECT_TRUE(VerifyManifest(*back, key.PublicKeyHex()).ok());
  back->version ^= 1;
  EXPECT_FALSE(VerifyManifest(*back, key.PublicKeyHex()).ok());
}

TEST(Manifest, AcceptanceRules) {
  Manifest m = Sample();
  int64_t now = *ParseRfc3339("2026-11-24T16:00:00Z");
  EXPECT_TRUE(CheckManifestAcceptable(m, 2, now).ok());
  Status older = CheckManifestAcceptable(m, 3, now);
  EXPECT_EQ(older.code(), StatusCode::kPermissionDenied);
  EXPECT_NE(older.message().find("not newer"), std::string::npos);
  m.expires = "2026-11-24T15:59:59Z";
  EXPECT_NE(CheckManifestAcceptable(m, 2, now).message().find("expired"), std::string::npos);
  m = Sample();
  m.sha256 = "ABC";
  EXPECT_FALSE(CheckManifestAcceptable(m, 2, now).ok());
}

TEST(Manifest, KeyFiles) {
  testing_support::TempDir dir;
  SigningKey key = SigningKey::Generate();
  ASSERT_TRUE(key.Save(dir.Join("signing.key"), dir.Join("signing.pub")).ok());
  EXPECT_FALSE(key.Save(dir.Join("signing.key"), dir.Join("signing.pub")).ok()) << "must not overwrite a key";
  auto loaded = SigningKey::Load(dir.Join("signing.key"));
  ASSERT_TRUE(loaded.ok());
  EXPECT_EQ(loaded->PublicKeyHex(), key.PublicKeyHex());
  auto pub = Env::Default()->ReadFile(dir.Join("signing.pub"));
  EXPECT_EQ(*pub, key.PublicKeyHex() + "\n");
  ASSERT_TRUE(Env::Default()->WriteFileAtomic(dir.Join("bad.key"), "nothex").ok());
  EXPECT_EQ(SigningKey::Load(dir.Join("bad.key")).status().code(), StatusCode::kCorruption);
}

TEST(Manifest, HashesAndTimes) {
  EXPECT_EQ(Sha256Hex(std::string("abc")), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  Sha256 h;
  h.Update(std::string("a"));
  h.Update(std::string("bc"));
  EXPECT_EQ(h.FinishHex(), Sha256Hex(std::string("abc")));
  EXPECT_EQ(FormatRfc3339(0), "1970-01-01T00:00:00Z");
  EXPECT_EQ(*ParseRfc3339("2026-11-24T15:42:00.250Z"), 1795534920250);
  EXPECT_EQ(*ParseRfc3339("2026-11-24T16:42:00+01:00"), 1795534920000);
  EXPECT_EQ(*ParseRfc3339(FormatRfc3339(1795534920000)), 1795534920000);
  EXPECT_FALSE(ParseRfc3339("2026-11-24 15:42").ok());
  EXPECT_FALSE(ParseRfc3339("2026-11-24T15:42:00").ok());
  EXPECT_EQ(*FromHex("00ff10"), std::string("\x00\xff\x10", 3));
  EXPECT_FALSE(FromHex("0g").ok());
}

}  // namespace
}  // namespace edgeloop::registry
