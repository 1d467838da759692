// Internal to the mqtt module: the checks every ...FromJson shares (messages.cc), so the streaming
// result reader (result_reader.cc) and the DOM readers apply the same rules with the same words.
#ifndef EDGELOOP_SRC_MQTT_MESSAGE_RULES_H_
#define EDGELOOP_SRC_MQTT_MESSAGE_RULES_H_

#include <cstdint>
#include <string>
#include <string_view>

#include "edgeloop/common/status.h"
#include "edgeloop/mqtt/messages.h"

namespace edgeloop::mqtt {

// Why `name` is not a valid name, or "" when it is (the rules of ValidateName).
std::string NameProblem(std::string_view name);

// How deep brackets may nest in a message (every reader refuses deeper text).
inline constexpr int kMaxNesting = 16;

// The checks before any JSON parser sees untrusted bytes: at most kMaxPayloadBytes, brackets
// nested at most kMaxNesting deep (outside strings). `what` ("result") starts the error.
Status CheckPayloadBounds(std::string_view text, const char* what);

// The shortest round-trip text of `d` ("3.6e+06"), as the range errors show bounds.
std::string ShortNumber(double d);

// An integer field's value as int64 (`u` when the parser read it as unsigned, else `i`) into
// `out`, or why it cannot be one: "out of range" past int64, or not in [min, max].
std::string IntProblem(bool is_unsigned, uint64_t u, int64_t i, int64_t min, int64_t max, int64_t* out);

// Why `x` is not a finite number in [min, max], or "" when it is.
std::string NumberRangeProblem(double x, double min, double max);

// True when `d` is finite and rounds to a finite float (a reading of raw_data/window).
bool FitsFloat(double d);

// The result reader that builds an nlohmann DOM and walks it: the executable statement of the
// rules ResultFromJson (SAX, no DOM) must match, error for error. Tests, the fuzz target and
// bench/result_parse compare the two; nothing else should call it.
Result<ResultMessage> ResultFromJsonDom(std::string_view text);

}  // namespace edgeloop::mqtt

#endif  // EDGELOOP_SRC_MQTT_MESSAGE_RULES_H_
