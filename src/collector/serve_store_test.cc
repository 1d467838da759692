// `edgeloop serve --mqtt --db` as a real process: results published on a real Mosquitto land in
// the store and come back through the /v1 API over HTTP; labels by POST and by the CLI; maintenance
// import and dataset export; the signed manifest of a promoted channel is pushed retained.
#include <gtest/gtest.h>
#include <httplib.h>

#include <nlohmann/json.hpp>
#include <thread>

#include "collector/test_publisher.h"
#include "edgeloop/common/env.h"
#include "edgeloop/mqtt/messages.h"
#include "edgeloop/registry/manifest.h"
#include "registry/test_models.h"
#include "test/support/process.h"
#include "test/support/servers.h"
#include "test/support/temp_dir.h"

namespace edgeloop::collector {
namespace {

using nlohmann::json;
using testing_support::BinaryPath;
using testing_support::MosquittoServer;
using testing_support::Process;
using testing_support::ProcessOptions;
using testing_support::RunCommand;
using testing_support::RunResult;
using testing_support::TempDir;

RunResult Edgeloop(std::vector<std::string> args) {
  args.insert(args.begin(), BinaryPath("edgeloop"));
  ProcessOptions o;
  o.env = {"EDGELOOP_SERVER=", "EDGELOOP_TOKEN=", "EDGELOOP_CA_FILE="};
  return RunCommand(args, 120000, o);
}

std::string Trimmed(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  return s;
}

std::string Result(const std::string& dev, int64_t seq, const std::string& pred, float conf, bool window) {
  mqtt::ResultMessage m;
  m.device_id = dev;
  m.seq = seq;
  m.timestamp_ms = 1767225600000 + seq * 1000;  // 2026-01-01T00:00:00Z + seq s
  m.prediction = pred;
  m.confidence = conf;
  m.all_scores = {{"normal", pred == "normal" ? conf : 1 - conf}, {"failure", pred == "failure" ? conf : 1 - conf}};
  m.model = {"vib", 1};
  m.raw_data = {1, 2, 3};
  if (window) {
    for (int i = 0; i < 8; ++i) m.window.push_back(static_cast<float>(seq * 10 + i));
    m.window_reason = mqtt::UploadReason::kLowConfidence;
  }
  return mqtt::ResultToJson(m);
}

TEST(ServeWithStore, ApiLabelsExportAndManifestPush) {
  MosquittoServer broker;
  broker.Start();
  TempDir dir;
  const std::string data = dir.Join("data");
  ASSERT_EQ(Edgeloop({"keys", "init", "--data", data}).exit_code, 0);
  RunResult admin = Edgeloop({"token", "create", "--data", data, "--role", "admin", "--name", "ops"});
  ASSERT_EQ(admin.exit_code, 0) << admin.err;
  RunResult device = Edgeloop({"token", "create", "--data", data, "--role", "device", "--name", "d"});
  ASSERT_EQ(device.exit_code, 0);
  const std::string admin_token = Trimmed(admin.out), device_token = Trimmed(device.out);
  const std::string db = dir.Join("store.db");
  int port = testing_support::FreePort();
  ProcessOptions po;
  po.stdout_path = dir.Join("serve.log");
  po.stderr_path = "stdout";
  Process serve({BinaryPath("edgeloop"), "serve", "--data", data, "--listen", "127.0.0.1:" + std::to_string(port), "--db",
                 db, "--mqtt", broker.url(), "--fleet", "plant1"},
                po);
  ASSERT_TRUE(testing_support::WaitForPort(port, 20000));
  httplib::Client http("127.0.0.1", port);
  httplib::Headers as_admin = {{"Authorization", "Bearer " + admin_token}};
  httplib::Headers as_device = {{"Authorization", "Bearer " + device_token}};
  std::this_thread::sleep_for(std::chrono::milliseconds(500));  // collector subscribed

  Publisher pub(broker.url());
  for (int s = 1; s <= 20; ++s) {
    pub.Publish(mqtt::ResultsTopic("plant1", "m1"), Result("m1", s, s <= 15 ? "normal" : "failure", s % 2 ? 0.95f : 0.6f, s % 2 == 0));
  }
  pub.Publish(mqtt::ResultsTopic("plant1", "m2"), Result("m2", 1, "normal", 0.99f, true));
  mqtt::AlarmMessage a;
  a.device_id = "m1";
  a.seq = 1;
  a.timestamp_ms = 1767225600000 + 16000;
  a.label = "failure";
  a.score = 0.9f;
  a.threshold = 0.8f;
  a.n = 3;
  a.m = 5;
  a.count = 3;
  a.result_seq = 16;
  pub.Publish(mqtt::AlarmsTopic("plant1", "m1"), mqtt::AlarmToJson(a));
  pub.Publish(mqtt::ResultsTopic("plant1", "m1"), "garbage");
  ASSERT_TRUE(pub.WaitAcked());

  json devices;
  for (int i = 0; i < 200; ++i) {
    auto r = http.Get("/v1/devices", as_device);
    ASSERT_TRUE(r);
    ASSERT_EQ(r->status, 200) << r->body;
    devices = json::parse(r->body);
    if (devices["devices"].size() == 2 && devices["devices"][0]["results"] == 20) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  ASSERT_EQ(devices["devices"].size(), 2u) << devices.dump();
  EXPECT_EQ(devices["devices"][0]["device_id"], "m1");
  EXPECT_EQ(devices["devices"][0]["results"], 20);
  EXPECT_EQ(devices["devices"][0]["alarms_open"], 1);
  EXPECT_EQ(devices["devices"][0]["online"], true);
  EXPECT_EQ(devices["devices"][0]["model"]["name"], "vib");
  EXPECT_EQ(devices["devices"][0]["fleet"], "plant1");

  auto r = http.Get("/v1/devices");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 401);

  r = http.Get("/v1/results?device=m1&limit=5&before_seq=18", as_device);
  ASSERT_EQ(r->status, 200) << r->body;
  json results = json::parse(r->body)["results"];
  ASSERT_EQ(results.size(), 5u);
  EXPECT_EQ(results[0]["seq"], 17);
  EXPECT_EQ(results[0]["timestamp"], "2026-01-01T00:00:17Z");
  EXPECT_EQ(results[0]["has_window"], false);
  EXPECT_EQ(results[1]["has_window"], true);
  EXPECT_EQ(http.Get("/v1/results?limit=0", as_device)->status, 400);
  EXPECT_EQ(http.Get("/v1/results?device=../x", as_device)->status, 400);

  r = http.Get("/v1/results/stats?since=2026-01-01T00:00:00Z&bucket_s=10&device=m1", as_device);
  ASSERT_EQ(r->status, 200) << r->body;
  json stats = json::parse(r->body);
  EXPECT_EQ(stats["bucket_s"], 10);
  EXPECT_EQ(stats["labels"], json({"failure", "normal"}));
  ASSERT_EQ(stats["buckets"].size(), 3u);  // seq 1..9, 10..19, 20
  EXPECT_EQ(stats["buckets"][0]["counts"]["normal"], 9);
  EXPECT_EQ(stats["buckets"][1]["counts"]["normal"], 6);
  EXPECT_EQ(stats["buckets"][1]["counts"]["failure"], 4);
  EXPECT_EQ(http.Get("/v1/results/stats?since=yesterday", as_device)->status, 400);

  r = http.Get("/v1/alarms?state=open&limit=10", as_device);
  ASSERT_EQ(r->status, 200);
  json alarms = json::parse(r->body)["alarms"];
  ASSERT_EQ(alarms.size(), 1u);
  EXPECT_EQ(alarms[0]["device_id"], "m1");
  EXPECT_TRUE(alarms[0]["verdict"].is_null());
  EXPECT_TRUE(alarms[0]["cleared_at"].is_null());
  const int64_t alarm_id = alarms[0]["id"];

  // Labels: admin only; 400 for bad bodies, 404 for unknown targets; 201 with the label.
  json confirm{{"alarm_id", alarm_id}, {"verdict", "confirm"}, {"by", "alice"}};
  EXPECT_EQ(http.Post("/v1/labels", as_device, confirm.dump(), "application/json")->status, 403);
  r = http.Post("/v1/labels", as_admin, confirm.dump(), "application/json");
  ASSERT_EQ(r->status, 201) << r->body;
  EXPECT_EQ(json::parse(r->body)["label"]["verdict"], "confirmed");
  EXPECT_EQ(http.Post("/v1/labels", as_admin, R"({"alarm_id":99999,"verdict":"confirm"})", "application/json")->status, 404);
  r = http.Post("/v1/labels", as_admin, R"({"device_id":"m1","seq":"x","label":"failure"})", "application/json");
  EXPECT_EQ(r->status, 400);
  EXPECT_NE(r->body.find("'seq'"), std::string::npos) << r->body;
  EXPECT_EQ(http.Post("/v1/labels", as_admin, R"({"device_id":"m1","seq":4000,"label":"failure"})", "application/json")->status,
            404);
  r = http.Post("/v1/labels", as_admin, R"({"device_id":"m1","seq":2,"label":"failure","source":"operator","by":"bob"})",
                "application/json");
  ASSERT_EQ(r->status, 201) << r->body;
  alarms = json::parse(http.Get("/v1/alarms?state=all", as_device)->body)["alarms"];
  EXPECT_EQ(alarms[0]["verdict"], "confirmed");

  // The CLI on the same store, while the server runs.
  RunResult label = Edgeloop({"label", "--db", db, "--device", "m1", "--seq", "4", "--label", "failure", "--by", "carol"});
  EXPECT_EQ(label.exit_code, 0) << label.err;
  EXPECT_EQ(Edgeloop({"label", "--db", db, "--device", "m1", "--seq", "999", "--label", "failure"}).exit_code, 1);
  ASSERT_TRUE(Env::Default()
                  ->WriteFileAtomic(dir.Join("maint.csv"), "device_id,start,end,label\n"
                                                           "m1,2026-01-01T00:00:05Z,2026-01-01T00:00:09Z,failure\n")
                  .ok());
  RunResult import = Edgeloop({"label", "import", dir.Join("maint.csv"), "--db", db});
  EXPECT_EQ(import.exit_code, 0) << import.err;
  ASSERT_TRUE(Env::Default()->WriteFileAtomic(dir.Join("bad.csv"), "device_id,start,end,label\nm1,today,x,failure\n").ok());
  RunResult bad = Edgeloop({"label", "import", dir.Join("bad.csv"), "--db", db});
  EXPECT_EQ(bad.exit_code, 1);
  EXPECT_NE(bad.err.find("bad.csv:2: column 2 (start)"), std::string::npos) << bad.err;

  // Export: operator labels (seq 2, 4), confirmed alarm (seq 16), maintenance (seq 6, 8), and with
  // predictions >= 0.9 the m2 window too. Windows are stored for even seqs only.
  RunResult ex = Edgeloop({"dataset", "export", "--db", db, "-o", dir.Join("field.csv"), "--json"});
  ASSERT_EQ(ex.exit_code, 0) << ex.err;
  json rep = json::parse(ex.out);
  EXPECT_EQ(rep["windows"], 5) << ex.out;
  EXPECT_EQ(rep["per_source"]["operator"], 3);
  EXPECT_EQ(rep["per_source"]["maintenance"], 2);
  EXPECT_EQ(rep["length"], 8);
  std::string csv = Env::Default()->ReadFile(dir.Join("field.csv")).value();
  EXPECT_NE(csv.find("failure,20,21,22,23,24,25,26,27"), std::string::npos) << csv;
  ex = Edgeloop({"dataset", "export", "--db", db, "-o", dir.Join("all.csv"), "--sources", "operator,prediction",
                 "--min-confidence", "0.9", "--labels", "normal,failure", "--json"});
  ASSERT_EQ(ex.exit_code, 0) << ex.err;
  rep = json::parse(ex.out);
  EXPECT_EQ(rep["per_source"]["operator"], 3);
  EXPECT_EQ(rep["per_source"]["prediction"], 1);
  ex = Edgeloop({"dataset", "export", "--db", db, "-o", dir.Join("bal.csv"), "--sources", "operator,prediction",
                 "--min-confidence", "0.9", "--balance", "--json"});
  ASSERT_EQ(ex.exit_code, 0) << ex.err;
  rep = json::parse(ex.out);
  EXPECT_EQ(rep["per_class"]["normal"], 1);
  EXPECT_EQ(rep["per_class"]["failure"], 1);
  EXPECT_EQ(rep["dropped_balance"], 2);

  // Drift: 404 until a baseline exists; then a report (too few windows to judge yet).
  r = http.Get("/v1/drift?device=m1", as_device);
  ASSERT_EQ(r->status, 404) << r->body;
  EXPECT_NE(r->body.find("drift baseline"), std::string::npos);
  {
    std::string csv = "label";
    for (int i = 0; i < 8; ++i) csv += ",f" + std::to_string(i);
    csv += "\n";
    for (int w = 0; w < 40; ++w) {
      csv += w % 4 == 0 ? "failure" : "normal";
      for (int i = 0; i < 8; ++i) csv += "," + std::to_string(w + i);
      csv += "\n";
    }
    ASSERT_TRUE(Env::Default()->WriteFileAtomic(dir.Join("train.csv"), csv).ok());
  }
  RunResult base = Edgeloop({"drift", "baseline", dir.Join("train.csv"), "--model", "vib", "--db", db});
  ASSERT_EQ(base.exit_code, 0) << base.err;
  r = http.Get("/v1/drift?device=fleet&since=2026-01-01T00:00:00Z", as_device);
  ASSERT_EQ(r->status, 200) << r->body;
  json drift = json::parse(r->body);
  EXPECT_EQ(drift["model"], "vib");
  EXPECT_EQ(drift["status"], "insufficient");  // 11 windows < 30
  EXPECT_EQ(drift["windows"], 11);
  EXPECT_DOUBLE_EQ(drift["class_mix"]["training"]["failure"].get<double>(), 0.25);
  EXPECT_EQ(drift["psi"]["bands"].size(), 4u);
  RunResult cli = Edgeloop({"drift", "--model", "vib", "--db", db, "--since", "2026-01-01T00:00:00Z", "--json"});
  EXPECT_EQ(cli.exit_code, 0) << cli.err;
  EXPECT_EQ(json::parse(cli.out)["windows"], 11);

  r = http.Get("/v1/dead-letters", as_admin);
  ASSERT_EQ(r->status, 200);
  EXPECT_EQ(json::parse(r->body)["total"], 1);

  // OTA push: publishing to stable makes the signed manifest appear retained on the fleet's topic.
  ASSERT_TRUE(Env::Default()->WriteFileAtomic(dir.Join("m.tflite"), registry::testing::TfliteModelBytes(5000, 1)).ok());
  RunResult p = Edgeloop({"publish", dir.Join("m.tflite"), "--name", "vib", "--channel", "stable", "--server",
                          "http://127.0.0.1:" + std::to_string(port), "--token", admin_token});
  ASSERT_EQ(p.exit_code, 0) << p.err;
  std::mutex mu;
  std::string retained;
  mqtt::ClientOptions so;
  so.server_uri = broker.url();
  so.client_id = "ota-watch";
  so.clean_start = true;
  mqtt::ClientCallbacks cb;
  cb.on_message = [&](mqtt::Message m) {
    std::lock_guard<std::mutex> lock(mu);
    if (m.topic == mqtt::ModelTopic("plant1", "vib", "stable")) retained = m.payload;
  };
  auto sub = mqtt::Client::Create(so, cb);
  ASSERT_TRUE(sub.ok());
  ASSERT_TRUE((*sub)->Subscribe(mqtt::ModelTopic("plant1", "vib", "+"), 1).ok());
  ASSERT_TRUE((*sub)->Connect().ok());
  bool got = false;
  for (int i = 0; i < 200 && !got; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    std::lock_guard<std::mutex> lock(mu);
    got = !retained.empty();
  }
  ASSERT_TRUE(got) << Env::Default()->ReadFile(dir.Join("serve.log")).value();
  auto manifest = registry::ManifestFromJson(retained);
  ASSERT_TRUE(manifest.ok()) << retained;
  EXPECT_EQ(manifest->version, 1);
  (void)(*sub)->Disconnect(1000);

  serve.Signal(SIGTERM);
  EXPECT_EQ(serve.Wait(20000), 0);
}

TEST(ServeWithStore, DashboardTokenFreeServesReadsOnly) {
  TempDir dir;
  const std::string data = dir.Join("data");
  ASSERT_EQ(Edgeloop({"keys", "init", "--data", data}).exit_code, 0);
  int port = testing_support::FreePort();
  ProcessOptions po;
  po.stdout_path = dir.Join("serve.log");
  po.stderr_path = "stdout";
  Process serve({BinaryPath("edgeloop"), "serve", "--data", data, "--listen", "127.0.0.1:" + std::to_string(port),
                 "--dashboard-token-free"},
                po);
  ASSERT_TRUE(testing_support::WaitForPort(port, 20000));
  httplib::Client http("127.0.0.1", port);
  auto r = http.Get("/v1/devices");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200) << r->body;
  EXPECT_EQ(json::parse(r->body)["devices"].size(), 0u);
  r = http.Post("/v1/labels", R"({"device_id":"m1","seq":1,"label":"x"})", "application/json");
  EXPECT_EQ(r->status, 401);
  serve.Signal(SIGTERM);
  EXPECT_EQ(serve.Wait(20000), 0);
}

}  // namespace
}  // namespace edgeloop::collector
