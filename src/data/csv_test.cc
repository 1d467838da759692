#include <gtest/gtest.h>

#include <string>

#include "edgeloop/data/csv.h"
#include "test/support/temp_dir.h"

namespace edgeloop::data {
namespace {

Result<Dataset> Read(const std::string& text, CsvReadOptions o = {}, CsvReadReport* report = nullptr) {
  return ReadCsv(text, "data.csv", o, report);
}

// The message of a failed read, which must name the file.
std::string Error(const std::string& text, CsvReadOptions o = {}) {
  auto r = Read(text, o);
  EXPECT_FALSE(r.ok()) << "expected an error for:\n" << text;
  if (r.ok()) return "";
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(r.status().message().find("data.csv"), std::string::npos) << r.status().message();
  return r.status().message();
}

TEST(Csv, ReadsWideLayout) {
  auto d = Read("label,f0,f1,f2\nnormal,0.5,1,-2e-3\nfailure,1.5,+2,3\nwarning,0,0,0\n");
  ASSERT_TRUE(d.ok()) << d.status().ToString();
  EXPECT_EQ(d->length, 3);
  EXPECT_EQ(d->channels, 1);
  ASSERT_EQ(d->size(), 3u);
  // Severity order, not row order.
  EXPECT_EQ(d->labels, (std::vector<std::string>{"normal", "warning", "failure"}));
  EXPECT_EQ(d->y, (std::vector<int32_t>{0, 2, 1}));
  EXPECT_FLOAT_EQ(d->x[2], -0.002f);
  EXPECT_FLOAT_EQ(d->x[4], 2.0f);
}

TEST(Csv, WideLabelColumnAnywhereAndCrlf) {
  auto d = Read("f0,f1,label\r\n1,2,b\r\n3,4,a\r\n");
  ASSERT_TRUE(d.ok()) << d.status().ToString();
  EXPECT_EQ(d->labels, (std::vector<std::string>{"a", "b"}));  // lexicographic
  EXPECT_EQ(d->y, (std::vector<int32_t>{1, 0}));
  EXPECT_EQ(d->x, (std::vector<float>{1, 2, 3, 4}));
}

TEST(Csv, ReadsTutorialFeaturesLayout) {
  // What pandas' df.to_csv(index=False) writes for the tutorial's DataFrame.
  auto d = Read("features,label\n\"[0.1, 0.2, 0.3, 0.4]\",normal\n\"[1.0, 2.0, 3.0, 4.0]\",failure\n");
  CsvReadReport rep;
  ASSERT_TRUE(d.ok()) << d.status().ToString();
  EXPECT_EQ(d->length, 4);
  EXPECT_EQ(d->labels, (std::vector<std::string>{"normal", "failure"}));
  EXPECT_FLOAT_EQ(d->x[1], 0.2f);
  // Either column order, and a pandas index column is ignored (and said so).
  auto e = Read(",label,features\n0,b,\"[1,2]\"\n1,a,\"[3,4]\"\n", {}, &rep);
  ASSERT_TRUE(e.ok()) << e.status().ToString();
  EXPECT_TRUE(rep.ignored_index_column);
  EXPECT_EQ(rep.layout, CsvLayout::kFeatures);
  EXPECT_EQ(e->x, (std::vector<float>{1, 2, 3, 4}));
  EXPECT_NE(rep.Summary().find("index column"), std::string::npos);
}

TEST(Csv, MultiChannelNeedsMatchingColumns) {
  CsvReadOptions o;
  o.channels = 3;
  auto d = Read("label,f0,f1,f2,f3,f4,f5\nnormal,1,2,3,4,5,6\n", o);
  ASSERT_TRUE(d.ok()) << d.status().ToString();
  EXPECT_EQ(d->length, 2);
  EXPECT_EQ(d->channels, 3);
  EXPECT_NE(Error("label,f0,f1,f2,f3\nnormal,1,2,3,4\n", o).find("not a multiple of 3 channels"), std::string::npos);
  o.length = 3;
  EXPECT_NE(Error("label,f0,f1,f2,f3,f4,f5\nnormal,1,2,3,4,5,6\n", o).find("expected 9"), std::string::npos);
}

struct BadCase {
  const char* name;
  std::string text;
  std::string expect;  // substring of the message
  RowError reason;
};

std::vector<BadCase> BadCases() {
  return {
      {"bad number", "label,f0,f1\nnormal,1,abc\n", "data.csv:2: column 3 ('f1'): 'abc' is not a number",
       RowError::kBadNumber},
      {"trailing junk", "label,f0,f1\nnormal,1,2.5x\n", "column 3 ('f1'): '2.5x' is not a number", RowError::kBadNumber},
      {"too few fields", "label,f0,f1\nnormal,1\n", "data.csv:2: expected 3 fields, found 2", RowError::kFieldCount},
      {"too many fields", "label,f0,f1\nnormal,1,2,3\n", "expected 3 fields, found 4", RowError::kFieldCount},
      {"empty cell", "label,f0,f1\nnormal,,2\n", "column 2 ('f0'): empty cell", RowError::kEmptyCell},
      {"empty label", "label,f0,f1\n,1,2\n", "column 1 ('label'): empty label", RowError::kEmptyCell},
      {"nan", "label,f0,f1\nnormal,1,nan\n", "column 3 ('f1'): 'nan' is NaN", RowError::kNaN},
      {"NaN", "label,f0,f1\nnormal,NaN,1\n", "'NaN' is NaN", RowError::kNaN},
      {"inf", "label,f0,f1\nnormal,1,-inf\n", "'-inf' is infinite", RowError::kInf},
      {"overflow", "label,f0,f1\nnormal,1,1e39\n", "'1e39' is outside the float32 range", RowError::kInf},
      {"list not a list", "features,label\n0.5,normal\n", "column 1 ('features'): '0.5' is not a JSON list",
       RowError::kBadList},
      {"list trailing comma", "features,label\n\"[1, 2,]\",normal\n", "element 2 is empty", RowError::kBadList},
      {"list unclosed", "features,label\n\"[1, 2\",normal\n", "is not a JSON list", RowError::kBadList},
      {"list nested", "features,label\n\"[[1, 2]]\",normal\n", "nested list", RowError::kBadList},
      {"list bad element", "features,label\n\"[1, x]\",normal\n", "element 1: 'x' is not a number",
       RowError::kBadNumber},
      {"list nan", "features,label\n\"[1, nan]\",normal\n", "element 1: 'nan' is NaN", RowError::kNaN},
      {"list inf", "features,label\n\"[inf, 1]\",normal\n", "element 0: 'inf' is infinite", RowError::kInf},
      {"list empty", "features,label\n\"[]\",normal\n", "empty list", RowError::kBadList},
      {"list length", "features,label\n\"[1, 2]\",normal\n\"[1, 2, 3]\",normal\n", "data.csv:3: column 1 ('features'): 3 readings, expected 2",
       RowError::kListLength},
      {"unterminated quote", "label,f0\n\"normal,1\n", "unterminated quoted field", RowError::kBadQuote},
      {"text after quote", "label,f0\n\"normal\"x,1\n", "text after a closing quote", RowError::kBadQuote},
  };
}

TEST(Csv, EveryBadRowIsAnErrorNamingThePlace) {
  for (const BadCase& c : BadCases()) {
    SCOPED_TRACE(c.name);
    std::string msg = Error(c.text);
    EXPECT_NE(msg.find(c.expect), std::string::npos) << msg;
  }
}

TEST(Csv, UnknownLabelWhenALabelSetIsGiven) {
  CsvReadOptions o;
  o.labels = {"normal", "warning", "failure"};
  std::string msg = Error("label,f0\nnormal,1\nbearing,2\n", o);
  EXPECT_NE(msg.find("data.csv:3: column 1 ('label'): unknown label 'bearing' (expected one of normal, warning, failure)"),
            std::string::npos)
      << msg;
  // The given order is the class order, even for labels absent from the file.
  auto d = Read("label,f0\nfailure,1\n", o);
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d->labels, o.labels);
  EXPECT_EQ(d->y[0], 2);
}

TEST(Csv, SkipBadRowsCountsEveryReason) {
  for (const BadCase& c : BadCases()) {
    SCOPED_TRACE(c.name);
    // Append a good row in the same layout; the bad one is skipped and counted.
    std::string good = c.text.rfind("features", 0) == 0 ? "\"[7, 8]\",warning\n" : "warning,7\n";
    std::string text = c.text;
    if (c.text.rfind("label,f0,f1", 0) == 0) good = "warning,7,8\n";
    if (c.reason == RowError::kBadQuote) continue;  // an open quote swallows the rest of the file
    CsvReadOptions o;
    o.skip_bad_rows = true;
    CsvReadReport rep;
    auto d = Read(text + good, o, &rep);
    ASSERT_TRUE(d.ok()) << d.status().ToString();
    EXPECT_GE(rep.rows_skipped, 1u);
    EXPECT_GE(rep.skipped_by_reason[static_cast<size_t>(c.reason)], 1u);
    ASSERT_FALSE(rep.examples.empty());
    EXPECT_NE(rep.examples[0].find(c.expect), std::string::npos) << rep.examples[0];
    EXPECT_EQ(rep.rows_kept, d->size());
    EXPECT_EQ(rep.rows, rep.rows_kept + rep.rows_skipped);
  }
}

TEST(Csv, SkipReportSummarisesAndKeepsFirstExamples) {
  std::string text = "label,f0\n";
  for (int i = 0; i < 10; ++i) text += "normal,x" + std::to_string(i) + "\n";
  text += "normal,nan\nnormal,1\n\n";
  CsvReadOptions o;
  o.skip_bad_rows = true;
  CsvReadReport rep;
  auto d = Read(text, o, &rep);
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d->size(), 1u);
  EXPECT_EQ(rep.rows_skipped, 11u);
  EXPECT_EQ(rep.examples.size(), 5u);
  EXPECT_EQ(rep.blank_lines, 1u);
  EXPECT_EQ(rep.Summary(), "12 rows, 1 kept, 11 skipped (10 bad number, 1 NaN), 1 blank lines");
  // All rows bad: an error that says so.
  auto none = Read("label,f0\nnormal,x\n", o);
  ASSERT_FALSE(none.ok());
  EXPECT_NE(none.status().message().find("all 1 rows were bad"), std::string::npos);
}

TEST(Csv, HeaderErrors) {
  EXPECT_NE(Error("").find("empty file"), std::string::npos);
  EXPECT_NE(Error("f0,f1\n1,2\n").find("no 'label' column"), std::string::npos);
  EXPECT_NE(Error("label,label\na,b\n").find("two 'label' columns"), std::string::npos);
  EXPECT_NE(Error("label,f0,,f2\na,1,2,3\n").find("column 3 has no name"), std::string::npos);
  EXPECT_NE(Error("label\n").find("data.csv"), std::string::npos);
  // A label column and nothing else: windows of no readings are not data (found by data_csv_fuzz).
  EXPECT_NE(Error("label\nnormal\nfailure\n").find("data.csv:1: header: no feature columns"), std::string::npos);
}

TEST(Csv, QuotedLabelsAndEscapes) {
  auto d = Read("label,f0\n\"a,\"\"b\"\"\",1\n\"multi\nline\",2\n");
  ASSERT_TRUE(d.ok()) << d.status().ToString();
  EXPECT_EQ(d->labels, (std::vector<std::string>{"a,\"b\"", "multi\nline"}));
  // The line numbers of later rows account for the quoted newline.
  std::string msg = Error("label,f0\n\"multi\nline\",2\nnormal,bad\n");
  EXPECT_NE(msg.find("data.csv:4:"), std::string::npos) << msg;
}

TEST(Csv, IntegerLabelsSortNumerically) {
  auto d = Read("label,f0\n10,1\n2,2\n1,3\n");
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d->labels, (std::vector<std::string>{"1", "2", "10"}));
}

TEST(Csv, WriteReadRoundTripsExactlyInBothLayouts) {
  Dataset d;
  d.length = 3;
  d.channels = 2;
  d.labels = {"normal", "odd, \"label\""};
  d.Add(std::vector<float>{0.1f, -1e-30f, 3.4028235e38f, 1.0f / 3, 0, -0.5f}, 0);
  d.Add(std::vector<float>{1, 2, 3, 4, 5, 6}, 1);
  for (CsvLayout layout : {CsvLayout::kWide, CsvLayout::kFeatures}) {
    CsvReadOptions o;
    o.channels = 2;
    o.labels = d.labels;
    auto back = ReadCsv(WriteCsv(d, layout), "mem", o);
    ASSERT_TRUE(back.ok()) << back.status().ToString();
    EXPECT_EQ(back->x, d.x);
    EXPECT_EQ(back->y, d.y);
    EXPECT_EQ(back->length, 3);
  }
}

TEST(Csv, FileErrorsNameThePath) {
  testing_support::TempDir dir;
  auto missing = ReadCsvFile(dir.Join("nope.csv"), {});
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.status().message().find("nope.csv"), std::string::npos);
  Dataset d;
  d.length = 1;
  d.labels = {"a"};
  d.Add(std::vector<float>{1}, 0);
  ASSERT_TRUE(WriteCsvFile(d, dir.Join("d.csv")).ok());
  auto back = ReadCsvFile(dir.Join("d.csv"), {});
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(back->x, d.x);
}

}  // namespace
}  // namespace edgeloop::data
