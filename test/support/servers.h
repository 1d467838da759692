// Real servers for tests, each on a free loopback port with its own directory: Mosquitto (the MQTT
// broker the project targets) and PostgreSQL (initdb into a temp dir, started with pg_ctl-like
// control). No mocks: tests talk to the real programs from Debian's packages.
//
// When the tests run as root, both servers are run as their own system users (mosquitto drops to
// `mosquitto` by itself; postgres refuses root), so their directories are chowned to those users.
#ifndef EDGELOOP_TEST_SUPPORT_SERVERS_H_
#define EDGELOOP_TEST_SUPPORT_SERVERS_H_

#include <memory>
#include <string>

#include "test/support/process.h"
#include "test/support/temp_dir.h"

namespace edgeloop::testing_support {

class MosquittoServer {
 public:
  // Picks a free port and writes the config; does not start. `extra_config` lines are appended.
  explicit MosquittoServer(const std::string& extra_config = "");
  ~MosquittoServer();

  // Starts (or restarts on the same port and persistence directory). Throws if it does not listen
  // within 10 s.
  void Start();
  // SIGTERM and wait: mosquitto saves its persistence file.
  void Stop();
  // SIGKILL: no save.
  void Kill();
  bool running() const { return process_ != nullptr; }

  int port() const { return port_; }
  std::string url() const { return "tcp://127.0.0.1:" + std::to_string(port_); }
  const std::string& dir() const { return dir_.path(); }
  std::string log_path() const { return dir_.Join("mosquitto.log"); }

 private:
  TempDir dir_;
  int port_;
  std::unique_ptr<Process> process_;
};

class PostgresServer {
 public:
  // initdb (trust auth for user "edgeloop", database "edgeloop"); does not start.
  PostgresServer();
  ~PostgresServer();

  void Start();  // throws if not accepting connections within 30 s
  void Stop();   // fast shutdown
  void Kill();   // SIGKILL of the postmaster

  int port() const { return port_; }
  // postgresql://edgeloop@127.0.0.1:PORT/edgeloop
  std::string url() const;
  // Creates another empty database and returns its URL (for tests that need a clean schema).
  std::string CreateDatabase(const std::string& name);

  // True when PostgreSQL's server binaries are installed (tests skip with a message otherwise).
  static bool Available();

 private:
  TempDir dir_;
  std::string bindir_;
  std::string data_;
  int port_;
  std::unique_ptr<Process> process_;
};

}  // namespace edgeloop::testing_support

#endif  // EDGELOOP_TEST_SUPPORT_SERVERS_H_
