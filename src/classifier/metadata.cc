#include "edgeloop/classifier/metadata.h"

#include <cmath>
#include <nlohmann/json.hpp>
#include <set>

namespace edgeloop::classifier {

using nlohmann::json;

std::string MetadataToJson(const ModelMetadata& m) {
  json j;
  j["format"] = "edgeloop/1";
  j["labels"] = m.labels;
  j["input"] = {{"length", m.length}, {"channels", m.channels}};
  j["normalization"] = {{"mean", m.mean}, {"std", m.std}};
  json metrics = json::parse(m.metrics_json.empty() ? "{}" : m.metrics_json, nullptr, false);
  j["metrics"] = metrics.is_discarded() ? json::object() : metrics;
  j["dataset_sha256"] = m.dataset_sha256;
  j["created"] = m.created;
  j["quantization"] = m.quantization;
  return j.dump();  // nlohmann's object keeps keys sorted
}

Result<ModelMetadata> MetadataFromJson(const std::string& text) {
  auto fail = [](const std::string& field, const std::string& why) {
    return Status::InvalidArgument("metadata 'edgeloop': " + field + ": " + why);
  };
  json j = json::parse(text, nullptr, false);
  if (j.is_discarded() || !j.is_object()) return fail("(document)", "not a JSON object");
  ModelMetadata m;
  try {
    if (!j.contains("labels") || !j["labels"].is_array() || j["labels"].empty()) {
      return fail("labels", "missing or empty");
    }
    std::set<std::string> seen;
    for (size_t i = 0; i < j["labels"].size(); ++i) {
      const json& l = j["labels"][i];
      if (!l.is_string() || l.get<std::string>().empty()) return fail("labels[" + std::to_string(i) + "]", "not a name");
      if (!seen.insert(l.get<std::string>()).second) return fail("labels[" + std::to_string(i) + "]", "duplicate");
      m.labels.push_back(l.get<std::string>());
    }
    const json& in = j.value("input", json::object());
    if (!in.contains("length") || !in["length"].is_number_integer() || in["length"].get<int64_t>() <= 0 ||
        in["length"].get<int64_t>() > (1 << 24)) {
      return fail("input.length", "missing or not a positive integer");
    }
    m.length = in["length"].get<int>();
    m.channels = in.value("channels", 1);
    if (m.channels != 1 && m.channels != 3) return fail("input.channels", "must be 1 or 3");
    const json& norm = j.value("normalization", json::object());
    auto read_vec = [&](const char* key, std::vector<float>* out) -> Status {
      if (!norm.contains(key)) return Status::Ok();
      if (!norm[key].is_array()) return fail(std::string("normalization.") + key, "not a list");
      for (size_t i = 0; i < norm[key].size(); ++i) {
        const json& v = norm[key][i];
        if (!v.is_number() || !std::isfinite(v.get<double>())) {
          return fail(std::string("normalization.") + key + "[" + std::to_string(i) + "]", "not a finite number");
        }
        out->push_back(v.get<float>());
      }
      return Status::Ok();
    };
    EL_RETURN_IF_ERROR(read_vec("mean", &m.mean));
    EL_RETURN_IF_ERROR(read_vec("std", &m.std));
    if (m.mean.size() != m.std.size() || (!m.mean.empty() && m.mean.size() != static_cast<size_t>(m.channels))) {
      return fail("normalization", "mean and std need one value per channel (" + std::to_string(m.channels) + ")");
    }
    for (size_t i = 0; i < m.std.size(); ++i) {
      if (!(m.std[i] > 0)) return fail("normalization.std[" + std::to_string(i) + "]", "must be > 0");
    }
    if (j.contains("metrics")) m.metrics_json = j["metrics"].dump();
    m.dataset_sha256 = j.value("dataset_sha256", "");
    m.created = j.value("created", "");
    m.quantization = j.value("quantization", "float32");
  } catch (const json::exception& e) {
    return fail("(document)", e.what());
  }
  return m;
}

}  // namespace edgeloop::classifier
