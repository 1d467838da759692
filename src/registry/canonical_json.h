// Internal: RFC 8785 serialisation of an already parsed nlohmann::json value.
#ifndef EDGELOOP_REGISTRY_CANONICAL_JSON_H_
#define EDGELOOP_REGISTRY_CANONICAL_JSON_H_

#include <nlohmann/json.hpp>
#include <string>

namespace edgeloop::registry {

std::string CanonicalJsonOf(const nlohmann::json& j);
// ES6 Number.prototype.toString formatting, as RFC 8785 requires ("1e+21", "0.000001", "1e-7").
std::string FormatJsonNumber(double d);

}  // namespace edgeloop::registry

#endif  // EDGELOOP_REGISTRY_CANONICAL_JSON_H_
