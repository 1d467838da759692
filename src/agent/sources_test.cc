#include "agent/sources.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cfloat>
#include <fstream>
#include <numeric>

#include "test/support/temp_dir.h"

namespace edgeloop::agent {
namespace {

using testing_support::TempDir;

TEST(ParseReadingsLine, FormatsAndErrors) {
  std::vector<float> v;
  EXPECT_EQ(ParseReadingsLine("1, 2.5,-3e2", &v), "");
  EXPECT_EQ(v, (std::vector<float>{1.0f, 2.5f, -300.0f}));
  EXPECT_EQ(ParseReadingsLine("  [0.5, 0.25 ,1]\r", &v), "");
  EXPECT_EQ(v, (std::vector<float>{0.5f, 0.25f, 1.0f}));
  EXPECT_EQ(ParseReadingsLine("", &v), "");
  EXPECT_TRUE(v.empty());
  EXPECT_EQ(ParseReadingsLine("# a comment", &v), "");
  EXPECT_TRUE(v.empty());
  EXPECT_EQ(ParseReadingsLine("[]", &v), "");
  EXPECT_TRUE(v.empty());

  struct Case {
    const char* line;
    const char* error;
  };
  const Case bad[] = {
      {"1,2,abc,4", "column 3: 'abc' is not a number"},
      {"1,,3", "column 2: empty value"},
      {"1,2,", "column 3: empty value"},
      {"1,nan", "column 2: 'nan' is not a finite decimal number"},
      {"inf", "column 1: 'inf' is not a finite decimal number"},
      {"0x10", "column 1: '0x10' is not a finite decimal number"},
      {"[1,2", "a JSON list must be enclosed in [ ]"},
      {"[1,[2]]", "column 2: '[2]' is not a number"},
      {"1 2", "column 1: '1 2' is not a number"},
  };
  for (const Case& c : bad) EXPECT_EQ(ParseReadingsLine(c.line, &v), c.error) << c.line;
}

TEST(ParseReadingsLine, OutOfRangeSaturatesInsteadOfWrapping) {
  std::vector<float> v;
  ASSERT_EQ(ParseReadingsLine("1e40,-1e40,1e308,-1e999,1e-60", &v), "");
  ASSERT_EQ(v.size(), 5u);
  EXPECT_EQ(v[0], FLT_MAX);
  EXPECT_EQ(v[1], -FLT_MAX);
  EXPECT_EQ(v[2], FLT_MAX);
  EXPECT_EQ(v[3], -FLT_MAX);
  EXPECT_EQ(v[4], 0.0f);
}

float Mean(const std::vector<float>& v) { return std::accumulate(v.begin(), v.end(), 0.0f) / v.size(); }

TEST(SyntheticSource, ScheduleSwitchesConditionsAndIsDeterministic) {
  AgentConfig::Source cfg;
  cfg.seed = 7;
  cfg.schedule = {{10, "warning", 0}, {20, "failure", 3600}};  // drift 1.0 per second of failure
  auto a = CreateSource(cfg);
  auto b = CreateSource(cfg);
  ASSERT_TRUE(a.ok() && b.ok());
  std::vector<float> w1, w2;
  ASSERT_EQ((*a)->Next(128, 0, &w1).status, ReadStatus::kWindow);
  ASSERT_EQ((*b)->Next(128, 0, &w2).status, ReadStatus::kWindow);
  EXPECT_EQ(w1.size(), 128u);
  EXPECT_EQ(w1, w2);
  EXPECT_NEAR(Mean(w1), 0.5, 0.1);
  (*a)->Next(128, 15, &w1);
  EXPECT_NEAR(Mean(w1), 1.2, 0.2);
  (*a)->Next(128, 20, &w1);
  EXPECT_NEAR(Mean(w1), 2.5, 0.4);
  (*a)->Next(128, 22, &w1);  // 2 s into the step: +2.0 of drift
  EXPECT_NEAR(Mean(w1), 4.5, 0.4);
  EXPECT_TRUE((*a)->paced());
}

TEST(CsvSource, WideFormatLoopsAndNamesBadCells) {
  TempDir dir;
  std::string path = dir.Join("data.csv");
  std::ofstream(path) << "label,f0,f1,f2\nnormal,0.5,0.4,0.6\nfailure,2.5,x,2.7\n\nwarning,1.2,1.1,1.3\n";
  AgentConfig::Source cfg;
  cfg.kind = SourceKind::kCsv;
  cfg.path = path;
  auto s = CreateSource(cfg);
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  std::vector<float> w;
  ReadResult r = (*s)->Next(3, 0, &w);
  ASSERT_EQ(r.status, ReadStatus::kWindow);
  EXPECT_EQ(w, (std::vector<float>{0.5f, 0.4f, 0.6f}));
  EXPECT_EQ(r.where, path + ":2");
  r = (*s)->Next(3, 0, &w);
  ASSERT_EQ(r.status, ReadStatus::kBadInput);
  EXPECT_EQ(r.where, path + ":3");
  EXPECT_EQ(r.error, "column 3: 'x' is not a number");
  r = (*s)->Next(3, 0, &w);
  ASSERT_EQ(r.status, ReadStatus::kWindow);
  EXPECT_EQ(r.where, path + ":5");
  r = (*s)->Next(3, 0, &w);  // loops to the first data row
  ASSERT_EQ(r.status, ReadStatus::kWindow);
  EXPECT_EQ(r.where, path + ":2");
}

TEST(CsvSource, TutorialFormat) {
  TempDir dir;
  std::string path = dir.Join("t.csv");
  std::ofstream(path) << "features,label\n\"[0.49, 0.51, 0.5]\",normal\n\"[2.5, 2.4]\",failure\n\"[1, 2\",bad\n";
  AgentConfig::Source cfg;
  cfg.kind = SourceKind::kCsv;
  cfg.path = path;
  auto s = CreateSource(cfg);
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  std::vector<float> w;
  ASSERT_EQ((*s)->Next(0, 0, &w).status, ReadStatus::kWindow);
  EXPECT_EQ(w, (std::vector<float>{0.49f, 0.51f, 0.5f}));
  ASSERT_EQ((*s)->Next(0, 0, &w).status, ReadStatus::kWindow);
  EXPECT_EQ(w.size(), 2u);
  ReadResult r = (*s)->Next(0, 0, &w);
  ASSERT_EQ(r.status, ReadStatus::kBadInput);
  EXPECT_EQ(r.where, path + ":4");
  EXPECT_NE(r.error.find("column 1 (features)"), std::string::npos) << r.error;
}

TEST(CsvSource, HeaderMustBeKnownAndAllBadRowsEnd) {
  TempDir dir;
  std::ofstream(dir.Join("a.csv")) << "x,y\n1,2\n";
  AgentConfig::Source cfg;
  cfg.kind = SourceKind::kCsv;
  cfg.path = dir.Join("a.csv");
  auto s = CreateSource(cfg);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.status().message().find(":1: unknown header"), std::string::npos) << s.status().message();

  std::ofstream(dir.Join("b.csv")) << "label,f0\nnormal,zz\n";
  cfg.path = dir.Join("b.csv");
  s = CreateSource(cfg);
  ASSERT_TRUE(s.ok());
  std::vector<float> w;
  EXPECT_EQ((*s)->Next(1, 0, &w).status, ReadStatus::kBadInput);
  EXPECT_EQ((*s)->Next(1, 0, &w).status, ReadStatus::kEnd);  // never a window: no endless loop
}

TEST(FileSource, FollowsAppendsAndTruncation) {
  TempDir dir;
  std::string path = dir.Join("feed.txt");
  AgentConfig::Source cfg;
  cfg.kind = SourceKind::kFile;
  cfg.path = path;
  auto s = CreateSource(cfg);  // the file does not exist yet: waited for
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  EXPECT_FALSE((*s)->paced());
  std::vector<float> w;
  EXPECT_EQ((*s)->Next(0, 0, &w).status, ReadStatus::kNotReady);
  {
    std::ofstream f(path);
    f << "1,2,3\n[4,5,6]\n7,8";  // the last line is not complete yet
  }
  ReadResult r = (*s)->Next(0, 0, &w);
  ASSERT_EQ(r.status, ReadStatus::kWindow);
  EXPECT_EQ(r.where, path + ":1");
  ASSERT_EQ((*s)->Next(0, 0, &w).status, ReadStatus::kWindow);
  EXPECT_EQ(w, (std::vector<float>{4, 5, 6}));
  EXPECT_EQ((*s)->Next(0, 0, &w).status, ReadStatus::kNotReady);
  std::ofstream(path, std::ios::app) << ",9\nbad,line\n";
  ASSERT_EQ((*s)->Next(0, 0, &w).status, ReadStatus::kWindow);
  EXPECT_EQ(w, (std::vector<float>{7, 8, 9}));
  r = (*s)->Next(0, 0, &w);
  ASSERT_EQ(r.status, ReadStatus::kBadInput);
  EXPECT_EQ(r.where, path + ":4");
  EXPECT_EQ(r.error, "column 1: 'bad' is not a number");
  // Rotated: a new, shorter file is read from its start.
  std::ofstream(path + ".new") << "10\n";
  ASSERT_EQ(::rename((path + ".new").c_str(), path.c_str()), 0);
  r = (*s)->Next(0, 0, &w);
  ASSERT_EQ(r.status, ReadStatus::kWindow);
  EXPECT_EQ(w, (std::vector<float>{10}));
  EXPECT_EQ(r.where, path + ":1");
}

TEST(FileSource, Fifo) {
  TempDir dir;
  std::string path = dir.Join("feed.fifo");
  ASSERT_EQ(::mkfifo(path.c_str(), 0600), 0);
  AgentConfig::Source cfg;
  cfg.kind = SourceKind::kFile;
  cfg.path = path;
  auto s = CreateSource(cfg);
  ASSERT_TRUE(s.ok());
  EXPECT_GE((*s)->poll_fd(), 0);
  std::vector<float> w;
  EXPECT_EQ((*s)->Next(0, 0, &w).status, ReadStatus::kNotReady);
  int wfd = ::open(path.c_str(), O_WRONLY | O_NONBLOCK);
  ASSERT_GE(wfd, 0);
  ASSERT_EQ(::write(wfd, "1,2\n", 4), 4);
  ::close(wfd);  // the writer goes away: not the end of the feed
  ASSERT_EQ((*s)->Next(0, 0, &w).status, ReadStatus::kWindow);
  EXPECT_EQ(w, (std::vector<float>{1, 2}));
  EXPECT_EQ((*s)->Next(0, 0, &w).status, ReadStatus::kNotReady);
}

}  // namespace
}  // namespace edgeloop::agent
