// ResultFromJson (SAX, result_reader.cc) against the rules as the DOM reader states them
// (ResultFromJsonDom): same messages accepted with the same fields, same first error word for word.
// Hand-written cases cover what the DOM tests cannot write (duplicate keys, unknown keys holding
// junk, numbers past every range); a seeded mutation run covers the rest.
#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

#include "edgeloop/mqtt/messages.h"
#include "mqtt/message_rules.h"
#include "mqtt/messages_test_util.h"

namespace edgeloop::mqtt {
namespace {

ResultMessage Sample(bool window) {
  ResultMessage m = SampleResult();
  if (window) {
    for (int i = 0; i < 32; ++i) m.window.push_back(0.25f * static_cast<float>(i) - 3.0f);
    m.window_reason = UploadReason::kAlarm;
  }
  return m;
}

// The two readers agree on `text`; returns the (shared) outcome.
Result<ResultMessage> Same(const std::string& text) {
  auto sax = ResultFromJson(text);
  auto dom = ResultFromJsonDom(text);
  EXPECT_EQ(sax.ok(), dom.ok()) << text << "\nSAX: " << sax.status().ToString() << "\nDOM: " << dom.status().ToString();
  if (!sax.ok() || !dom.ok()) {
    EXPECT_EQ(sax.status().ToString(), dom.status().ToString()) << text;
    return sax;
  }
  EXPECT_EQ(sax->device_id, dom->device_id) << text;
  EXPECT_EQ(sax->seq, dom->seq) << text;
  EXPECT_EQ(sax->timestamp_ms, dom->timestamp_ms) << text;
  EXPECT_EQ(sax->prediction, dom->prediction) << text;
  EXPECT_EQ(sax->confidence, dom->confidence) << text;
  EXPECT_EQ(sax->all_scores, dom->all_scores) << text;
  EXPECT_EQ(sax->inference_ms, dom->inference_ms) << text;
  EXPECT_EQ(sax->model.name, dom->model.name) << text;
  EXPECT_EQ(sax->model.version, dom->model.version) << text;
  EXPECT_EQ(sax->raw_data, dom->raw_data) << text;
  EXPECT_EQ(sax->window, dom->window) << text;
  EXPECT_EQ(sax->window_reason, dom->window_reason) << text;
  return sax;
}

std::string Replace(std::string s, const std::string& from, const std::string& to) {
  size_t at = s.find(from);
  EXPECT_NE(at, std::string::npos) << from << " not in " << s;
  if (at != std::string::npos) s.replace(at, from.size(), to);
  return s;
}

TEST(ResultReader, AgreesOnWellFormedMessages) {
  for (bool window : {false, true}) {
    std::string text = ResultToJson(Sample(window));
    auto r = Same(text);
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    EXPECT_EQ(r->window.size(), window ? 32u : 0u);
    EXPECT_EQ(r->raw_data.size(), kRawDataReadings);
  }
}

TEST(ResultReader, DuplicateKeysLastValueWinsAtFirstPosition) {
  const std::string base = ResultToJson(Sample(false));
  // A later duplicate replaces the value, whether the first was good or bad.
  auto r = Same(Replace(base, "\"seq\":42", "\"seq\":\"x\",\"seq\":43"));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->seq, 43);
  r = Same(Replace(base, "\"seq\":42", "\"seq\":43,\"seq\":-1"));
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("'seq'"), std::string::npos) << r.status().message();
  // A duplicate label keeps its first place in the model's order and takes the last score.
  r = Same(Replace(base, "\"failure\":0.9140625}", "\"failure\":0.9140625,\"normal\":0.5}"));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_EQ(r->all_scores.size(), 3u);
  EXPECT_EQ(r->all_scores[0], (std::pair<std::string, float>{"normal", 0.5f}));
  // A second all_scores/model/raw_data/window replaces the first entirely.
  r = Same(Replace(base, "\"all_scores\":", "\"all_scores\":{\"x\":1},\"all_scores\":"));
  EXPECT_TRUE(r.ok()) << r.status().ToString();
  r = Same(Replace(base, "\"model\":", "\"model\":{\"name\":\"a\",\"version\":1,\"extra\":2},\"model\":"));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->model.name, "vibration-classifier");
  r = Same(Replace(base, "\"model\":{", "\"model\":{\"version\":9,\"version\":\"9\","));
  EXPECT_TRUE(r.ok()) << r.status().ToString();  // the sample's own version comes last
  r = Same(Replace(base, "\"raw_data\":", "\"raw_data\":[\"bad\"],\"raw_data\":"));
  EXPECT_TRUE(r.ok()) << r.status().ToString();
  r = Same(Replace(base, "\"raw_data\":", "\"raw_data\":[1,2,3],\"raw_data\":[4],\"junk\":"));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->raw_data, std::vector<float>{4.0f});
  r = Same(Replace(base, "{", "{\"window\":[1,2],\"window\":[],"));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_TRUE(r->window.empty());
  r = Same(Replace(base, "{", "{\"window\":[],\"window\":[1,2],"));
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("'window_reason'"), std::string::npos) << r.status().message();
}

TEST(ResultReader, UnknownKeysAreSkippedWhateverTheyHold) {
  const std::string base = ResultToJson(Sample(true));
  for (const char* junk : {"null", "true", "-0", "1e308", "\"seq\"", "[]", "{}", "[[[{\"seq\":-1}]]]",
                           "{\"device_id\":5,\"all_scores\":[],\"model\":{\"name\":1}}", "[1,\"x\",{\"a\":[null]}]"}) {
    auto r = Same(Replace(base, "{", std::string("{\"zz\":") + junk + ","));
    ASSERT_TRUE(r.ok()) << junk << ": " << r.status().ToString();
    EXPECT_EQ(r->seq, 42);
    r = Same(Replace(base, "\"model\":{", std::string("\"model\":{\"zz\":") + junk + ","));
    EXPECT_TRUE(r.ok()) << junk << ": " << r.status().ToString();
  }
}

TEST(ResultReader, WrongTypesNameTheField) {
  const std::string base = ResultToJson(Sample(true));
  struct Case {
    const char* from;
    const char* to;
    const char* field;
  };
  const Case cases[] = {
      {"\"device_id\":\"edge-001\"", "\"device_id\":[\"edge-001\"]", "'device_id'"},
      {"\"seq\":42", "\"seq\":{}", "'seq'"},
      {"\"seq\":42", "\"seq\":18446744073709551615", "'seq'"},
      {"\"seq\":42", "\"seq\":-9223372036854775808", "'seq'"},
      {"\"seq\":42", "\"seq\":42.0", "'seq'"},
      {"\"seq\":42", "\"seq\":true", "'seq'"},
      {"\"timestamp\":1764000000123", "\"timestamp\":null", "'timestamp'"},
      {"\"prediction\":\"failure\"", "\"prediction\":\"\"", "'prediction'"},
      {"\"confidence\":0.9140625", "\"confidence\":\"0.9\"", "'confidence'"},
      {"\"confidence\":0.9140625", "\"confidence\":1", "'confidence'"},  // 1 is fine, yet prediction's score differs
      {"\"normal\":0.0234375", "\"normal\":[0.02]", "'all_scores.normal'"},
      {"\"normal\":0.0234375", "\"normal\":18446744073709551615", "'all_scores.normal'"},
      {"\"normal\":0.0234375", "\"no rmal\":0.0234375", "'all_scores.no rmal'"},
      {"\"inference_ms\":0.012", "\"inference_ms\":3600001", "'inference_ms'"},
      {"\"model\":{", "\"model\":[{", "'model'"},
      {"\"name\":\"vibration-classifier\"", "\"name\":null", "'model.name'"},
      {"\"name\":\"vibration-classifier\"", "\"name\":\".x\"", "'model.name'"},
      {",\"version\":3", ",\"versio\":3", "'model.version'"},
      {",\"version\":3", ",\"version\":1e3", "'model.version'"},
      {"\"raw_data\":[2.5", "\"raw_data\":[[2.5]", "'raw_data[0]'"},
      {"\"raw_data\":[2.5", "\"raw_data\":[3.5e38", "'raw_data[0]'"},
      {"\"raw_data\":[2.5", "\"raw_data\":[-3.4028236e38", "'raw_data[0]'"},
      {"\"window\":[-3", "\"window\":[-3,{},1e39", "'window[1]'"},
      {"\"window\":[-3", "\"window\":{\"a\":[-3", "'window'"},
      {"\"window_reason\":\"alarm\"", "\"window_reason\":[\"alarm\"]", "'window_reason'"},
      {"\"window_reason\":\"alarm\"", "\"window_reason\":\"alarmalarmalarmalarmalarmalarmalarm\"", "'window_reason'"},
  };
  for (const Case& c : cases) {
    std::string text = Replace(base, c.from, c.to);
    // Close what the replacement opened.
    if (std::string(c.from) == "\"model\":{") text = Replace(text, "},\"raw_data\"", "}],\"raw_data\"");
    if (std::string(c.to).starts_with("\"window\":{")) text = Replace(text, "],\"window_reason\"", "]},\"window_reason\"");
    auto r = Same(text);
    if (std::string(c.to) == "\"confidence\":1") continue;  // only agreement matters here
    ASSERT_FALSE(r.ok()) << text;
    EXPECT_NE(r.status().message().find(c.field), std::string::npos) << c.field << " not in " << r.status().message();
  }
}

TEST(ResultReader, NumbersPastEveryRange) {
  const std::string base = ResultToJson(Sample(false));
  for (const char* n : {"1e999", "-1e999", "1e-999", "NaN", "Infinity", "-0.0", "0e0", "1E+2", "00", "1.", ".5",
                        "99999999999999999999", "-99999999999999999999", "9223372036854775807",
                        "9223372036854775808", "3.4028235e38", "3.4028235677973366e38", "3.4028236e38"}) {
    for (const char* field : {"\"seq\":42", "\"confidence\":0.9140625", "\"inference_ms\":0.012",
                              "\"raw_data\":[2.5", "\",\"version\":3", "\"warning\":0.0625"}) {
      std::string f = field;
      std::string key = f.substr(0, f.find(':') + 1);
      if (key.back() != ':') continue;
      std::string to = key + (f.find('[') != std::string::npos ? std::string("[") : std::string()) + n;
      (void)Same(Replace(base, f, to));
    }
  }
}

TEST(ResultReader, LabelLimitCountsDistinctLabels) {
  const std::string base = ResultToJson(Sample(false));
  auto scores = [](int distinct, int repeats) {
    std::string s = "\"all_scores\":{\"failure\":0.5";
    for (int r = 0; r < repeats; ++r) {
      for (int i = 1; i < distinct; ++i) s += ",\"l" + std::to_string(i) + "\":0.001";
    }
    return s + "},";
  };
  const std::string old_scores = "\"all_scores\":{\"normal\":0.0234375,\"warning\":0.0625,\"failure\":0.9140625},";
  auto r = Same(Replace(base, old_scores, scores(static_cast<int>(kMaxLabels), 3)));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->all_scores.size(), kMaxLabels);
  r = Same(Replace(base, old_scores, scores(static_cast<int>(kMaxLabels) + 1, 2)));
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("more than 256 labels"), std::string::npos) << r.status().message();
  // A later all_scores replaces the oversized one.
  r = Same(Replace(base, old_scores, scores(static_cast<int>(kMaxLabels) + 5, 1) + old_scores));
  EXPECT_TRUE(r.ok()) << r.status().ToString();
}

// Escapes, UTF-8, any whitespace and a BOM (which simdjson leaves to nlohmann) read the same.
TEST(ResultReader, EscapesUtf8WhitespaceAndBom) {
  const std::string base = ResultToJson(Sample(true));
  auto r = Same(Replace(base, "\"edge-001\"", "\"edge\\u002d001\""));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->device_id, "edge-001");
  r = Same(Replace(base, "\"failure\",", "\"failur\\u00e9\","));
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("'prediction'"), std::string::npos) << r.status().message();
  r = Same(Replace(base, "{", "{\"note\":\"caf\xc3\xa9 \\\"x\\\"\",")) ;
  EXPECT_TRUE(r.ok()) << r.status().ToString();
  r = Same(" \t\r\n" + Replace(Replace(base, ":", " :\t"), ",", "\n, ") + "\n");
  EXPECT_TRUE(r.ok()) << r.status().ToString();
  r = Same("\xef\xbb\xbf" + base);
  EXPECT_EQ(r.ok(), ResultFromJsonDom("\xef\xbb\xbf" + base).ok());
  r = Same(Replace(base, "\"edge-001\"", "\"edge\x01\""));
  EXPECT_FALSE(r.ok());
}

TEST(ResultReader, NotAnObjectOrNotJson) {
  const std::vector<std::string> texts = {"", " ", "null", "[]", "[1,{\"seq\":1}]", "\"str\"", "12", "{", "{}", "{\"seq\":1,}", "{\"a\":1}x",
        "{\"a\":1} ", "{\"seq\":1}{}", "{\"device_id\":\"\\u00e9\"}", "{\"device_id\":\"\xff\"}",
        std::string(17, '[') + std::string(17, ']'), std::string(16, '[') + std::string(16, ']'),
        std::string("{\"a\":\"") + std::string(40, '[') + "\"}"};
  for (const std::string& text : texts) {
    auto r = Same(text);
    EXPECT_FALSE(r.ok()) << text;
  }
}

// Seeded mutations of well-formed messages: bytes replaced, inserted or deleted, and tokens
// swapped for other JSON values. Every outcome, good or bad, must be the same for both readers.
TEST(ResultReader, AgreesOnMutatedMessages) {
  std::mt19937 rng(20261125);
  const std::vector<std::string> bases = {ResultToJson(Sample(false)), ResultToJson(Sample(true))};
  const std::vector<std::string> values = {"0", "-1", "1", "0.5", "1e400", "2e38", "\"\"", "\"alarm\"", "\"failure\"",
                                           "null", "true", "[]", "{}", "[1,2]", "{\"name\":\"m\",\"version\":1}",
                                           "18446744073709551616", "-0", "\"normal\"", "[\"x\"]"};
  const std::string alphabet = "{}[]\":,0123456789.-+eEtrunlfas\\ x\xc3\xa9";
  int accepted = 0, rejected = 0;
  for (int i = 0; i < 20000; ++i) {
    std::string t = bases[rng() % bases.size()];
    int edits = 1 + static_cast<int>(rng() % 3);
    for (int e = 0; e < edits && !t.empty(); ++e) {
      size_t at = rng() % t.size();
      switch (rng() % 5) {
        case 0:
          t[at] = alphabet[rng() % alphabet.size()];
          break;
        case 1:
          t.insert(at, 1, alphabet[rng() % alphabet.size()]);
          break;
        case 2:
          t.erase(at, 1 + rng() % 4);
          break;
        default: {  // replace the value after a ':' or ',' with another value
          size_t sep = t.find_first_of(":,[", at);
          if (sep == std::string::npos) break;
          size_t end = t.find_first_of(",}]", sep + 1);
          if (end == std::string::npos) break;
          t.replace(sep + 1, end - sep - 1, values[rng() % values.size()]);
        }
      }
    }
    auto r = Same(t);
    (r.ok() ? accepted : rejected)++;
    if (HasFailure()) break;
  }
  // Both kinds of outcome must have been exercised for the comparison to mean anything.
  EXPECT_GT(accepted, 500);
  EXPECT_GT(rejected, 5000);
}

}  // namespace
}  // namespace edgeloop::mqtt
