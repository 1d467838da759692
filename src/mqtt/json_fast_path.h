// Internal to the mqtt module: the fast path of the result reader. simdjson (the Debian package
// libsimdjson-dev) parses the text into its tape, and FeedSimdjson walks that tape sending the
// SAX events nlohmann's parser would send to the same handler, so the handler's rules stay the
// only rules. It is a fast path, not a second set of rules: it returns false (before or after
// having sent events) for anything it does not take, valid or not: text simdjson refuses (every
// syntax error, integers past 64 bits, which nlohmann reads as floats), a top level that is not
// an object, nesting deeper than kMaxNesting. The caller then starts again with a fresh
// handler and nlohmann::json::sax_parse, which writes every syntax error.
// Event mapping as nlohmann's: integers >= 0 as number_unsigned, negative ones as
// number_integer, numbers with a fraction or exponent as number_float.
#ifndef EDGELOOP_SRC_MQTT_JSON_FAST_PATH_H_
#define EDGELOOP_SRC_MQTT_JSON_FAST_PATH_H_

#include <simdjson.h>

#include <cstdint>
#include <string>
#include <string_view>

#include "mqtt/message_rules.h"

namespace edgeloop::mqtt {

namespace internal {

template <typename Handler>
class SimdjsonFeed {
 public:
  explicit SimdjsonFeed(Handler* h) : h_(h) {}

  bool Value(simdjson::dom::element e, int depth) {
    using simdjson::dom::element_type;
    switch (e.type()) {
      case element_type::OBJECT: {
        if (depth >= kMaxNesting) return false;
        simdjson::dom::object o = e.get_object().value_unsafe();
        if (!h_->start_object(o.size())) return false;
        for (simdjson::dom::key_value_pair kv : o) {
          buf_.assign(kv.key);
          if (!h_->key(buf_) || !Value(kv.value, depth + 1)) return false;
        }
        return h_->end_object();
      }
      case element_type::ARRAY: {
        if (depth >= kMaxNesting) return false;
        simdjson::dom::array a = e.get_array().value_unsafe();
        if (!h_->start_array(a.size())) return false;
        for (simdjson::dom::element v : a) {
          if (!Value(v, depth + 1)) return false;
        }
        return h_->end_array();
      }
      case element_type::INT64: {
        const int64_t v = e.get_int64().value_unsafe();
        return v >= 0 ? h_->number_unsigned(static_cast<uint64_t>(v)) : h_->number_integer(v);
      }
      case element_type::UINT64:
        return h_->number_unsigned(e.get_uint64().value_unsafe());
      case element_type::DOUBLE:
        return h_->number_float(e.get_double().value_unsafe(), empty_);
      case element_type::STRING:
        buf_.assign(e.get_string().value_unsafe());
        return h_->string(buf_);
      case element_type::BOOL:
        return h_->boolean(e.get_bool().value_unsafe());
      case element_type::NULL_VALUE:
        return h_->null();
    }
    return false;
  }

 private:
  Handler* h_;
  std::string buf_;
  const std::string empty_;
};

}  // namespace internal

// True when the whole text was one object and every event went to the handler (which accepted
// each); false when the caller must parse it with nlohmann instead. One parser per thread: its
// buffers are reused from message to message.
template <typename Handler>
bool FeedSimdjson(std::string_view text, Handler* handler) {
  thread_local simdjson::dom::parser parser;
  simdjson::dom::element root;
  if (parser.parse(text.data(), text.size(), /*realloc_if_needed=*/true).get(root) != simdjson::SUCCESS) {
    return false;
  }
  if (root.type() != simdjson::dom::element_type::OBJECT) return false;
  return internal::SimdjsonFeed<Handler>(handler).Value(root, 0);
}

}  // namespace edgeloop::mqtt

#endif  // EDGELOOP_SRC_MQTT_JSON_FAST_PATH_H_
