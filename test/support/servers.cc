#include "test/support/servers.h"

#include <pwd.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <stdexcept>

namespace edgeloop::testing_support {
namespace {

bool IsRoot() { return ::geteuid() == 0; }

// Gives `path` (recursively) to `user` when we are root; a no-op otherwise.
void GiveTo(const std::string& path, const std::string& user) {
  if (!IsRoot()) return;
  struct passwd* pw = ::getpwnam(user.c_str());
  if (pw == nullptr) throw std::runtime_error("no system user " + user);
  std::error_code ec;
  if (::chown(path.c_str(), pw->pw_uid, pw->pw_gid) != 0) throw std::runtime_error("chown " + path);
  for (auto& e : std::filesystem::recursive_directory_iterator(path, ec)) {
    (void)::lchown(e.path().c_str(), pw->pw_uid, pw->pw_gid);
  }
}

std::string FindMosquitto() {
  for (const char* p : {"/usr/sbin/mosquitto", "/usr/bin/mosquitto", "/usr/local/sbin/mosquitto"}) {
    if (::access(p, X_OK) == 0) return p;
  }
  throw std::runtime_error("mosquitto is not installed (scripts/install-deps installs it)");
}

std::string FindPostgresBin() {
  std::string best;
  std::error_code ec;
  for (auto& e : std::filesystem::directory_iterator("/usr/lib/postgresql", ec)) {
    std::string bin = e.path().string() + "/bin";
    if (::access((bin + "/postgres").c_str(), X_OK) == 0 && bin > best) best = bin;
  }
  return best;
}

}  // namespace

MosquittoServer::MosquittoServer(const std::string& extra_config) : port_(FreePort()) {
  std::string persist = dir_.Join("persist");
  std::filesystem::create_directories(persist);
  std::ofstream conf(dir_.Join("mosquitto.conf"));
  conf << "listener " << port_ << " 127.0.0.1\n"
       << "allow_anonymous true\n"
       << "persistence true\n"
       << "persistence_location " << persist << "/\n"
       << "autosave_interval 1\n"
       // Durability tests queue thousands of QoS 1 messages for offline persistent sessions;
       // mosquitto's default caps (1000 messages) would drop them.
       << "max_queued_messages 0\n"
       << "max_inflight_messages 0\n"
       << "log_dest file " << log_path() << "\n"
       << "log_type error\nlog_type warning\nlog_type notice\nlog_type information\n"
       << extra_config << "\n";
  conf.close();
  std::ofstream(log_path()).close();
  GiveTo(dir_.path(), "mosquitto");
}

MosquittoServer::~MosquittoServer() {
  if (process_) Kill();
}

void MosquittoServer::Start() {
  if (process_) return;
  process_ = std::make_unique<Process>(std::vector<std::string>{FindMosquitto(), "-c", dir_.Join("mosquitto.conf")});
  if (!WaitForPort(port_, 10000)) {
    process_.reset();
    throw std::runtime_error("mosquitto did not start on port " + std::to_string(port_) + "; see " + log_path());
  }
}

void MosquittoServer::Stop() {
  if (!process_) return;
  process_->Signal(SIGTERM);
  if (!process_->Wait(10000)) process_->Signal(SIGKILL);
  process_->Wait(5000);
  process_.reset();
}

void MosquittoServer::Kill() {
  if (!process_) return;
  process_->Signal(SIGKILL);
  process_->Wait(5000);
  process_.reset();
}

bool PostgresServer::Available() { return !FindPostgresBin().empty(); }

PostgresServer::PostgresServer() : bindir_(FindPostgresBin()), data_(dir_.Join("pgdata")), port_(FreePort()) {
  if (bindir_.empty()) throw std::runtime_error("PostgreSQL server binaries not found under /usr/lib/postgresql");
  std::filesystem::create_directories(dir_.Join("sock"));
  GiveTo(dir_.path(), "postgres");
  ProcessOptions o;
  o.run_as_user = "postgres";
  RunResult r = RunCommand({bindir_ + "/initdb", "-D", data_, "-U", "edgeloop", "--auth=trust", "-E", "UTF8",
                     "--no-sync"},
                    120000, o);
  if (r.exit_code != 0) throw std::runtime_error("initdb failed: " + r.err);
}

PostgresServer::~PostgresServer() {
  if (process_) Stop();
}

std::string PostgresServer::url() const {
  return "postgresql://edgeloop@127.0.0.1:" + std::to_string(port_) + "/edgeloop";
}

void PostgresServer::Start() {
  if (process_) return;
  ProcessOptions o;
  o.run_as_user = "postgres";
  o.stdout_path = dir_.Join("postgres.log");
  o.stderr_path = "stdout";
  process_ = std::make_unique<Process>(
      std::vector<std::string>{bindir_ + "/postgres", "-D", data_, "-p", std::to_string(port_), "-k",
                               dir_.Join("sock"), "-c", "listen_addresses=127.0.0.1", "-c", "fsync=off", "-c",
                               "max_connections=200"},
      o);
  if (!WaitForPort(port_, 30000)) {
    process_.reset();
    throw std::runtime_error("postgres did not start; see " + dir_.Join("postgres.log"));
  }
  // The port opens before the database accepts sessions; wait until a query works.
  for (int i = 0; i < 300; ++i) {
    RunResult r = RunCommand({bindir_ + "/psql", "-h", "127.0.0.1", "-p", std::to_string(port_), "-U", "edgeloop", "-d",
                       "postgres", "-tAc", "SELECT 1"},
                      10000);
    if (r.exit_code == 0) break;
    ::usleep(100000);
  }
  RunCommand({bindir_ + "/psql", "-h", "127.0.0.1", "-p", std::to_string(port_), "-U", "edgeloop", "-d", "postgres",
       "-c", "CREATE DATABASE edgeloop"},
      30000);
}

std::string PostgresServer::CreateDatabase(const std::string& name) {
  RunResult r = RunCommand({bindir_ + "/psql", "-h", "127.0.0.1", "-p", std::to_string(port_), "-U", "edgeloop", "-d",
                     "postgres", "-c", "CREATE DATABASE " + name},
                    30000);
  if (r.exit_code != 0) throw std::runtime_error("CREATE DATABASE " + name + " failed: " + r.err);
  return "postgresql://edgeloop@127.0.0.1:" + std::to_string(port_) + "/" + name;
}

void PostgresServer::Stop() {
  if (!process_) return;
  process_->Signal(SIGINT);  // "fast" shutdown
  if (!process_->Wait(30000)) process_->Signal(SIGKILL);
  process_->Wait(5000);
  process_.reset();
}

void PostgresServer::Kill() {
  if (!process_) return;
  process_->Signal(SIGKILL);
  process_->Wait(5000);
  process_.reset();
}

}  // namespace edgeloop::testing_support
