#include "agent/alarms.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <sstream>
#include <thread>

#include "agent/pacer.h"
#include "test/support/temp_dir.h"

namespace edgeloop::agent {
namespace {

// Feeds a pattern ('x' = over the threshold, '.' = not) and returns the events ("R@i", "C@i").
std::string Feed(AlarmDebouncer& d, const std::string& pattern) {
  std::string events;
  for (size_t i = 0; i < pattern.size(); ++i) {
    auto u = d.Observe(pattern[i] == 'x');
    if (u.changed) events += std::string(u.active ? "R@" : "C@") + std::to_string(i) + " ";
  }
  return events;
}

TEST(AlarmDebouncer, RaisesAtNofMAndClearsAfterMQuietWindows) {
  AlarmDebouncer d(3, 5);
  // Two hits are not enough; the third within five windows raises.
  EXPECT_EQ(Feed(d, "xx...x.x.x"), "R@9 ");
  EXPECT_TRUE(d.active());
  // Intermittent hits keep it raised (no flapping); five quiet windows clear it.
  EXPECT_EQ(Feed(d, ".x.x..x....."), "C@11 ");
  EXPECT_FALSE(d.active());
}

TEST(AlarmDebouncer, OneOfOneFollowsEveryWindow) {
  AlarmDebouncer d(1, 1);  // the tutorial's rule
  EXPECT_EQ(Feed(d, "x.x"), "R@0 C@1 R@2 ");
}

TEST(Pacer, AbsoluteDeadlinesAndOverruns) {
  Pacer p(100, 1000);  // 100 us period starting at t=1000
  EXPECT_FALSE(p.Due(999));
  EXPECT_TRUE(p.Due(1000));
  EXPECT_EQ(p.next_deadline_us(), 1100);
  EXPECT_TRUE(p.Due(1150));  // late but within the period: no drift, no overrun
  EXPECT_EQ(p.next_deadline_us(), 1200);
  EXPECT_EQ(p.overruns(), 0);
  EXPECT_TRUE(p.Due(1530));  // ticks 1300 and 1400 were missed: skipped, counted
  EXPECT_EQ(p.overruns(), 3);
  EXPECT_EQ(p.next_deadline_us(), 1600);
  EXPECT_FALSE(p.Due(1599));
}

int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

std::vector<std::string> ReapUntilDone(CommandRunner& r, int timeout_ms) {
  std::vector<std::string> failures;
  int64_t deadline = NowMs() + timeout_ms;
  while (r.running() > 0 && NowMs() < deadline) {
    auto f = r.Reap(NowMs());
    failures.insert(failures.end(), f.begin(), f.end());
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return failures;
}

TEST(CommandRunner, PassesDetailsInTheEnvironmentWithoutBlocking) {
  testing_support::TempDir dir;
  std::string out = dir.Join("out.txt");
  CommandRunner r;
  int64_t t0 = NowMs();
  ASSERT_TRUE(r.Start("sleep 0.3; echo \"$EDGELOOP_ALARM_EVENT $EDGELOOP_ALARM_LABEL $EDGELOOP_ALARM_SCORE\" > " + out,
                      {{"EDGELOOP_ALARM_EVENT", "raised"}, {"EDGELOOP_ALARM_LABEL", "failure"},
                       {"EDGELOOP_ALARM_SCORE", "0.93"}},
                      NowMs())
                  .ok());
  EXPECT_LT(NowMs() - t0, 200) << "Start must not wait for the command";
  EXPECT_EQ(r.running(), 1u);
  EXPECT_TRUE(ReapUntilDone(r, 5000).empty());
  std::ifstream in(out);
  std::stringstream ss;
  ss << in.rdbuf();
  EXPECT_EQ(ss.str(), "raised failure 0.93\n");
}

TEST(CommandRunner, FailuresTimeoutsAndTheLimitAreReported) {
  CommandRunner r(2, 300);
  ASSERT_TRUE(r.Start("exit 3", {}, NowMs()).ok());
  ASSERT_TRUE(r.Start("sleep 30", {}, NowMs()).ok());
  auto busy = r.Start("true", {}, NowMs());
  EXPECT_EQ(busy.code(), StatusCode::kUnavailable);
  auto failures = ReapUntilDone(r, 5000);
  ASSERT_EQ(failures.size(), 2u);
  std::string all = failures[0] + "|" + failures[1];
  EXPECT_NE(all.find("exited with status 3"), std::string::npos) << all;
  EXPECT_NE(all.find("was killed"), std::string::npos) << all;
  EXPECT_EQ(r.running(), 0u);
}

}  // namespace
}  // namespace edgeloop::agent
