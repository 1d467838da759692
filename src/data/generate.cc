// The reference tutorial's Gaussian generator and the option parsers shared by the generators.
#include <charconv>
#include <cmath>

#include "edgeloop/common/random.h"
#include "edgeloop/data/generate.h"
#include "data/class_mix.h"

namespace edgeloop::data {

namespace {

std::string_view Trim(std::string_view s) {
  while (!s.empty() && s.front() == ' ') s.remove_prefix(1);
  while (!s.empty() && s.back() == ' ') s.remove_suffix(1);
  return s;
}

}  // namespace

Status CheckClassMix(const std::vector<double>& mix) {
  if (mix.size() != 3) return Status::InvalidArgument("class mix: need 3 weights (normal, warning, failure)");
  double total = 0;
  for (double w : mix) {
    if (!(w >= 0) || !std::isfinite(w)) return Status::InvalidArgument("class mix: weights must be >= 0");
    total += w;
  }
  if (!(total > 0)) return Status::InvalidArgument("class mix: weights must not all be 0");
  return Status::Ok();
}

Result<Dataset> GenerateGaussian(const GaussianOptions& options) {
  if (options.samples == 0) return Status::InvalidArgument("samples must be > 0");
  if (options.length <= 0) return Status::InvalidArgument("length must be > 0");
  EL_RETURN_IF_ERROR(CheckClassMix(options.class_mix));
  static constexpr double kLoc[3] = {0.5, 1.2, 2.5};
  static constexpr double kScale[3] = {0.1, 0.3, 0.8};
  Dataset d;
  d.length = options.length;
  d.channels = 1;
  d.labels = {"normal", "warning", "failure"};
  d.x.reserve(options.samples * static_cast<size_t>(options.length));
  d.y.reserve(options.samples);
  Rng rng(options.seed);
  std::vector<float> window(static_cast<size_t>(options.length));
  for (size_t i = 0; i < options.samples; ++i) {
    // As the tutorial: choose the class, then draw the readings.
    size_t label = rng.Choice(std::span<const double>(options.class_mix));
    for (float& v : window) v = static_cast<float>(rng.Normal(kLoc[label], kScale[label]));
    d.Add(window, static_cast<int32_t>(label));
  }
  return d;
}

Result<uint32_t> ParseFaultModes(std::string_view list) {
  uint32_t modes = 0;
  list = Trim(list);
  if (list == "all") return kAllFaults;
  while (!list.empty()) {
    size_t comma = list.find(',');
    std::string_view item = Trim(list.substr(0, comma));
    if (item == "imbalance") {
      modes |= kImbalance;
    } else if (item == "misalignment") {
      modes |= kMisalignment;
    } else if (item == "looseness") {
      modes |= kLooseness;
    } else if (item == "bearing") {
      modes |= kBearing;
    } else {
      return Status::InvalidArgument("faults: unknown fault mode '" + std::string(item) +
                                     "' (expected imbalance, misalignment, looseness, bearing or all)");
    }
    if (comma == std::string_view::npos) break;
    list.remove_prefix(comma + 1);
  }
  if (modes == 0) return Status::InvalidArgument("faults: no fault mode given");
  return modes;
}

std::string FaultModesToString(uint32_t modes) {
  std::string s;
  const std::pair<uint32_t, const char*> kNames[] = {
      {kImbalance, "imbalance"}, {kMisalignment, "misalignment"}, {kLooseness, "looseness"}, {kBearing, "bearing"}};
  for (const auto& [bit, name] : kNames) {
    if (!(modes & bit)) continue;
    if (!s.empty()) s += ',';
    s += name;
  }
  return s;
}

Result<Drift> ParseDrift(std::string_view spec) {
  Drift d;
  spec = Trim(spec);
  if (spec.empty() || spec == "none") return d;
  while (!spec.empty()) {
    size_t comma = spec.find(',');
    std::string_view item = Trim(spec.substr(0, comma));
    std::string_view key = item, value;
    size_t eq = item.find('=');
    if (eq != std::string_view::npos) {
      key = Trim(item.substr(0, eq));
      value = Trim(item.substr(eq + 1));
    }
    double amount = (key == "new-fault") ? 0.5 : 0.3;
    if (eq != std::string_view::npos) {
      auto [ptr, ec] = std::from_chars(value.data(), value.data() + value.size(), amount);
      if (ec != std::errc() || ptr != value.data() + value.size() || !std::isfinite(amount)) {
        return Status::InvalidArgument("drift: '" + std::string(item) + "': '" + std::string(value) +
                                       "' is not a number");
      }
    }
    if (key == "speed" || key == "noise" || key == "gain") {
      if (amount <= -0.9 || amount > 10) {
        return Status::InvalidArgument("drift: " + std::string(key) + " must be in (-0.9, 10]");
      }
      (key == "speed" ? d.speed : key == "noise" ? d.noise : d.gain) = amount;
    } else if (key == "new-fault") {
      if (!(amount > 0 && amount <= 1)) return Status::InvalidArgument("drift: new-fault share must be in (0, 1]");
      d.new_fault = amount;
    } else {
      return Status::InvalidArgument("drift: unknown kind '" + std::string(key) +
                                     "' (expected none, speed, noise, gain or new-fault)");
    }
    if (comma == std::string_view::npos) break;
    spec.remove_prefix(comma + 1);
  }
  return d;
}

std::string DriftToString(const Drift& d) {
  if (!d.any()) return "none";
  std::string s;
  auto add = [&](const char* name, double v) {
    if (v == 0) return;
    char buf[32];
    auto [ptr, ec] = std::to_chars(buf, buf + sizeof(buf), v);
    if (!s.empty()) s += ',';
    s.append(name).append("=").append(buf, ec == std::errc() ? ptr : buf);
  };
  add("speed", d.speed);
  add("noise", d.noise);
  add("gain", d.gain);
  add("new-fault", d.new_fault);
  return s;
}

}  // namespace edgeloop::data
