// Test helper: a QoS 1 publisher on a real broker that waits for every PUBACK.
#ifndef EDGELOOP_COLLECTOR_TEST_PUBLISHER_H_
#define EDGELOOP_COLLECTOR_TEST_PUBLISHER_H_

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <memory>
#include <string>
#include <thread>

#include "edgeloop/mqtt/client.h"

namespace edgeloop::collector {

// A QoS 1 publisher that waits for every PUBACK.
class Publisher {
 public:
  explicit Publisher(const std::string& url, const std::string& id = "test-publisher") {
    mqtt::ClientOptions o;
    o.server_uri = url;
    o.client_id = id;
    o.clean_start = true;
    o.max_inflight = 500;
    mqtt::ClientCallbacks cb;
    cb.on_publish_complete = [this](const mqtt::PublishCompletion& c) {
      if (c.status.ok()) acked_++;
      else failed_++;
    };
    client_ = std::move(mqtt::Client::Create(o, cb)).value();
    EXPECT_TRUE(client_->Connect().ok());
    for (int i = 0; i < 200 && !client_->connected(); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(25));
  }
  void Publish(const std::string& topic, const std::string& payload) {
    for (;;) {
      auto r = client_->Publish(topic, payload, 1, false, 0);
      if (r.ok()) {
        ++sent_;
        return;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(1));  // in-flight window full, or reconnecting
    }
  }
  bool WaitAcked(int ms = 60000) {
    for (int i = 0; i < ms / 10 && acked_.load() + failed_.load() < sent_; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
    return acked_.load() == sent_;
  }

 private:
  std::unique_ptr<mqtt::Client> client_;
  int64_t sent_ = 0;
  std::atomic<int64_t> acked_{0}, failed_{0};
};

}  // namespace edgeloop::collector

#endif  // EDGELOOP_COLLECTOR_TEST_PUBLISHER_H_
