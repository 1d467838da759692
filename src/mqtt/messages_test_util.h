// Test-only: the sample result the mqtt module's tests write, read and mutate.
#ifndef EDGELOOP_SRC_MQTT_MESSAGES_TEST_UTIL_H_
#define EDGELOOP_SRC_MQTT_MESSAGES_TEST_UTIL_H_

#include <cfloat>

#include "edgeloop/mqtt/messages.h"

namespace edgeloop::mqtt {

inline ResultMessage SampleResult() {
  ResultMessage m;
  m.device_id = "edge-001";
  m.seq = 42;
  m.timestamp_ms = 1764000000123;
  m.prediction = "failure";
  m.confidence = 0.9140625f;
  m.all_scores = {{"normal", 0.0234375f}, {"warning", 0.0625f}, {"failure", 0.9140625f}};
  m.inference_ms = 0.0123;
  m.model = {"vibration-classifier", 3};
  m.raw_data = {2.5f, 2.7f, -1.25f, 0.1f, 3.0f, 2.0f, 1.0f, 0.5f, FLT_MAX, -FLT_MAX};  // saturated readings too
  return m;
}

}  // namespace edgeloop::mqtt

#endif  // EDGELOOP_SRC_MQTT_MESSAGES_TEST_UTIL_H_
