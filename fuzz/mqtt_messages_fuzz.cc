// Fuzzes the parsers the collector runs on untrusted MQTT payloads and topics
// (include/edgeloop/mqtt/messages.h): they must never crash, hang or leak, and whatever they
// accept must survive a round trip through ...ToJson unchanged. ResultFromJson (simdjson,
// nlohmann SAX fallback) must answer exactly as the DOM reader that states the rules
// (ResultFromJsonDom): the same fields, or the same error word for word.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "edgeloop/mqtt/messages.h"
#include "mqtt/message_rules.h"

namespace {

void Check(bool ok) {
  if (!ok) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace edgeloop::mqtt;
  std::string_view text(reinterpret_cast<const char*>(data), size);

  auto result = ResultFromJson(text);
  auto reference = ResultFromJsonDom(text);
  Check(result.ok() == reference.ok());
  if (!result.ok()) Check(result.status().message() == reference.status().message());
  if (result.ok()) {
    const ResultMessage &a = *result, &b = *reference;
    Check(a.device_id == b.device_id && a.seq == b.seq && a.timestamp_ms == b.timestamp_ms);
    Check(a.prediction == b.prediction && a.confidence == b.confidence && a.all_scores == b.all_scores);
    Check(a.inference_ms == b.inference_ms && a.model.name == b.model.name && a.model.version == b.model.version);
    Check(a.raw_data == b.raw_data && a.window == b.window && a.window_reason == b.window_reason);
  }
  if (auto& r = result; r.ok()) {
    auto again = ResultFromJson(ResultToJson(*r));
    Check(again.ok());
    Check(again->device_id == r->device_id && again->seq == r->seq && again->timestamp_ms == r->timestamp_ms);
    Check(again->prediction == r->prediction && again->confidence == r->confidence);
    Check(again->all_scores == r->all_scores && again->raw_data == r->raw_data && again->window == r->window);
    Check(again->model.name == r->model.name && again->model.version == r->model.version);
    Check(again->window_reason == r->window_reason);
  }
  if (auto a = AlarmFromJson(text); a.ok()) {
    auto again = AlarmFromJson(AlarmToJson(*a));
    Check(again.ok());
    Check(again->seq == a->seq && again->event == a->event && again->label == a->label && again->n == a->n &&
          again->m == a->m && again->count == a->count && again->score == a->score);
  }
  if (auto s = StatusFromJson(text); s.ok()) {
    auto again = StatusFromJson(StatusToJson(*s));
    Check(again.ok());
    Check(again->device_id == s->device_id && again->state == s->state && again->dropped == s->dropped);
  }
  if (auto t = ParseDeviceTopic(text); t.ok()) {
    Check(DeviceTopic(t->fleet, t->device, t->kind) == text);
  }
  return 0;
}
