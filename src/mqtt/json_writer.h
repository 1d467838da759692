// A minimal streaming JSON writer for the hot path (one result message per sensor window): no
// intermediate DOM, numbers in their shortest round-trip form (std::to_chars), strings escaped as
// RFC 8259 requires with invalid UTF-8 replaced by U+FFFD so the output is always valid JSON.
// Thread-safety: none; one writer per message.
#ifndef EDGELOOP_MQTT_JSON_WRITER_H_
#define EDGELOOP_MQTT_JSON_WRITER_H_

#include <cstdint>
#include <span>
#include <string>
#include <string_view>

namespace edgeloop::mqtt {

class JsonWriter {
 public:
  explicit JsonWriter(size_t reserve = 256) { out_.reserve(reserve); }

  JsonWriter& BeginObject();
  JsonWriter& EndObject();
  JsonWriter& BeginArray();
  JsonWriter& EndArray();
  JsonWriter& Key(std::string_view key);
  JsonWriter& String(std::string_view s);
  JsonWriter& Int(int64_t v);
  JsonWriter& Float(float v);    // non-finite values are written as null
  JsonWriter& Double(double v);  // non-finite values are written as null
  JsonWriter& Bool(bool v);
  JsonWriter& FloatArray(std::span<const float> values);

  const std::string& str() const { return out_; }
  std::string Take() { return std::move(out_); }

 private:
  void Separate();  // a comma when a value or key follows another one
  std::string out_;
};

// Appends `s` as a JSON string literal (with quotes) to `out`.
void AppendJsonString(std::string& out, std::string_view s);

}  // namespace edgeloop::mqtt

#endif  // EDGELOOP_MQTT_JSON_WRITER_H_
