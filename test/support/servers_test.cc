// The harness itself: the real servers start, serve, restart and stop.
#include "test/support/servers.h"

#include <gtest/gtest.h>

namespace edgeloop::testing_support {
namespace {

TEST(Harness, MosquittoPersistsRetainedAcrossRestart) {
  MosquittoServer broker;
  broker.Start();
  std::string port = std::to_string(broker.port());
  RunResult pub = RunCommand({"mosquitto_pub", "-h", "127.0.0.1", "-p", port, "-t", "harness/t", "-m", "hello", "-r",
                       "-q", "1"});
  ASSERT_EQ(pub.exit_code, 0) << pub.err;
  broker.Stop();
  broker.Start();
  RunResult sub = RunCommand({"mosquitto_sub", "-h", "127.0.0.1", "-p", port, "-t", "harness/t", "-C", "1", "-W", "5"});
  EXPECT_EQ(sub.exit_code, 0) << sub.err;
  EXPECT_EQ(sub.out, "hello\n");
}

TEST(Harness, PostgresAcceptsQueries) {
  if (!PostgresServer::Available()) GTEST_SKIP() << "PostgreSQL server binaries not installed";
  PostgresServer pg;
  pg.Start();
  RunResult r = RunCommand({"psql", pg.url(), "-tAc", "SELECT 40 + 2"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "42\n");
  std::string other = pg.CreateDatabase("second");
  RunResult r2 = RunCommand({"psql", other, "-tAc", "SELECT current_database()"});
  EXPECT_EQ(r2.out, "second\n");
}

}  // namespace
}  // namespace edgeloop::testing_support
