#include "edgeloop/registry/gate.h"

#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <nlohmann/json.hpp>

namespace edgeloop::registry {
namespace {

class TfliteGate final : public PublishGate {
 public:
  explicit TfliteGate(ModelCheckFn check) : check_(std::move(check)) {}
  std::string name() const override { return "tflite"; }
  Status Check(const GateInput& in) const override {
    if (!check_) return Status::InvalidArgument("no TFLite checker configured");
    return check_(in.bytes);
  }

 private:
  ModelCheckFn check_;
};

class EdgeTpuGate final : public PublishGate {
 public:
  EdgeTpuGate(std::set<std::string> names, ModelCheckFn check) : names_(std::move(names)), check_(std::move(check)) {}
  std::string name() const override { return "edgetpu"; }
  Status Check(const GateInput& in) const override {
    if (names_.count(in.model) == 0) return Status::Ok();
    if (!check_) {
      return Status::InvalidArgument("model '" + in.model +
                                     "' is configured as Edge TPU-targeted but this build has no Edge TPU checker");
    }
    return check_(in.bytes);
  }

 private:
  std::set<std::string> names_;
  ModelCheckFn check_;
};

class MetricFloorGate final : public PublishGate {
 public:
  explicit MetricFloorGate(std::map<std::string, double> floors) : floors_(std::move(floors)) {}
  std::string name() const override { return "metric-floor"; }
  Status Check(const GateInput& in) const override {
    nlohmann::json metrics = nlohmann::json::parse(in.metrics_json, nullptr, false);
    if (metrics.is_discarded() || !metrics.is_object()) return Status::InvalidArgument("metrics are not a JSON object");
    for (const auto& [metric, floor] : floors_) {
      auto it = metrics.find(metric);
      if (it == metrics.end()) {
        return Status::InvalidArgument("metric '" + metric + "' is required (floor " + FormatNumber(floor) +
                                       ") but was not published");
      }
      if (!it->is_number()) return Status::InvalidArgument("metric '" + metric + "' is not a number");
      double value = it->get<double>();
      if (!(value >= floor)) {
        return Status::InvalidArgument("metric '" + metric + "' = " + FormatNumber(value) + " is below the floor " +
                                       FormatNumber(floor));
      }
    }
    return Status::Ok();
  }

 private:
  static std::string FormatNumber(double v) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.6g", v);
    return buf;
  }
  std::map<std::string, double> floors_;
};

}  // namespace

std::unique_ptr<PublishGate> MakeTfliteGate(ModelCheckFn check) { return std::make_unique<TfliteGate>(std::move(check)); }

std::unique_ptr<PublishGate> MakeEdgeTpuGate(std::set<std::string> model_names, ModelCheckFn check) {
  return std::make_unique<EdgeTpuGate>(std::move(model_names), std::move(check));
}

std::unique_ptr<PublishGate> MakeMetricFloorGate(std::map<std::string, double> floors) {
  return std::make_unique<MetricFloorGate>(std::move(floors));
}

Status ParseMetricFloor(const std::string& text, std::map<std::string, double>* floors) {
  size_t eq = text.find('=');
  if (eq == std::string::npos || eq == 0 || eq + 1 == text.size()) {
    return Status::InvalidArgument("--min-metric '" + text + "': expected NAME=VALUE, e.g. val_accuracy=0.9");
  }
  std::string name = text.substr(0, eq);
  std::string value = text.substr(eq + 1);
  errno = 0;
  char* end = nullptr;
  double v = std::strtod(value.c_str(), &end);
  if (errno != 0 || end != value.c_str() + value.size() || !std::isfinite(v)) {
    return Status::InvalidArgument("--min-metric '" + text + "': '" + value + "' is not a number");
  }
  (*floors)[name] = v;
  return Status::Ok();
}

}  // namespace edgeloop::registry
