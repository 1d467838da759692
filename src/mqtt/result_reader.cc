// ResultFromJson without a DOM: a SAX handler keeps only the fields a result has (the collector
// reads one per message, so the DOM's allocation per key and per number was most of the parse).
// simdjson feeds it (json_fast_path.h); nlohmann's SAX parser whatever simdjson leaves,
// including every malformed message, so every syntax error is nlohmann's. The handler
// only collects; the checks run afterwards in the order of the reference reader
// (ResultFromJsonDom in messages.cc), so the first error reported is the same one: a JSON syntax
// error anywhere beats every field error, and a field checked earlier beats one checked later
// wherever they stand in the text. Duplicate keys behave as in the DOM (an
// nlohmann::ordered_json): the last value wins, at the position of the first.
#include <cmath>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "edgeloop/mqtt/messages.h"
#include "mqtt/json_fast_path.h"
#include "mqtt/message_rules.h"

namespace edgeloop::mqtt {
namespace {

using json = nlohmann::json;  // only for its SAX parser and its scalar types

// What a JSON value was, as far as the checks need to know.
enum class Kind { kMissing, kString, kInteger, kUnsigned, kFloat, kOther, kObject, kArray };

bool IsNumber(Kind k) { return k == Kind::kInteger || k == Kind::kUnsigned || k == Kind::kFloat; }

// One scalar field's last value (strings are moved into the message when they pass).
struct Scalar {
  Kind kind = Kind::kMissing;
  int64_t i = 0;
  uint64_t u = 0;
  double d = 0;
  std::string s;

  double AsDouble() const {
    return kind == Kind::kInteger ? static_cast<double>(i) : kind == Kind::kUnsigned ? static_cast<double>(u) : d;
  }
};

// raw_data or window: the elements' count, the readings up to the first bad element, and which
// element was bad first (and why).
struct Readings {
  Kind kind = Kind::kMissing;
  size_t count = 0;
  size_t bad_index = SIZE_MAX;
  bool bad_is_range = false;  // else: not a number
  std::vector<float>* out = nullptr;

  void Reset(Kind k) {
    kind = k;
    count = 0;
    bad_index = SIZE_MAX;
    bad_is_range = false;
    out->clear();
  }
};

struct Score {
  std::string label;
  Kind kind = Kind::kMissing;
  double value = 0;
};

// Where the parser is: which container the next value belongs to.
enum class Ctx : uint8_t { kRoot, kScores, kModel, kRawData, kWindow, kSkip };
enum class Field : uint8_t {
  kNone, kDeviceId, kSeq, kTimestamp, kPrediction, kConfidence, kScores, kInferenceMs, kModel, kRawData,
  kWindow, kWindowReason,
};

Field FieldOf(std::string_view key) {
  switch (key.size()) {
    case 3:
      return key == "seq" ? Field::kSeq : Field::kNone;
    case 5:
      return key == "model" ? Field::kModel : Field::kNone;
    case 6:
      return key == "window" ? Field::kWindow : Field::kNone;
    case 8:
      return key == "raw_data" ? Field::kRawData : Field::kNone;
    case 9:
      return key == "device_id" ? Field::kDeviceId : key == "timestamp" ? Field::kTimestamp : Field::kNone;
    case 10:
      return key == "prediction" ? Field::kPrediction
             : key == "confidence" ? Field::kConfidence
             : key == "all_scores" ? Field::kScores
                                   : Field::kNone;
    case 12:
      return key == "inference_ms" ? Field::kInferenceMs : Field::kNone;
    case 13:
      return key == "window_reason" ? Field::kWindowReason : Field::kNone;
    default:
      return Field::kNone;
  }
}

class ResultHandler {
 public:
  explicit ResultHandler(ResultMessage* m) : m_(m) {
    raw_.out = &m->raw_data;
    window_.out = &m->window;
    scores_.reserve(8);
  }

  // ---- nlohmann SAX interface ----
  bool null() { return Value(Kind::kOther, 0, 0, 0, nullptr); }
  bool boolean(bool) { return Value(Kind::kOther, 0, 0, 0, nullptr); }
  bool number_integer(json::number_integer_t v) { return Value(Kind::kInteger, v, 0, static_cast<double>(v), nullptr); }
  bool number_unsigned(json::number_unsigned_t v) {
    return Value(Kind::kUnsigned, 0, v, static_cast<double>(v), nullptr);
  }
  bool number_float(json::number_float_t v, const json::string_t&) { return Value(Kind::kFloat, 0, 0, v, nullptr); }
  bool string(json::string_t& v) { return Value(Kind::kString, 0, 0, 0, &v); }
  bool binary(json::binary_t&) { return Value(Kind::kOther, 0, 0, 0, nullptr); }
  bool start_object(std::size_t) { return Open(Kind::kObject); }
  bool start_array(std::size_t) { return Open(Kind::kArray); }
  bool end_object() { return Close(); }
  bool end_array() { return Close(); }
  bool key(json::string_t& k) {
    switch (stack_[depth_ - 1]) {
      case Ctx::kRoot:
        field_ = FieldOf(k);
        break;
      case Ctx::kScores:
        ScoreKey(k);
        break;
      case Ctx::kModel:
        model_key_ = k == "name" ? 1 : k == "version" ? 2 : 0;
        break;
      default:
        break;
    }
    return true;
  }
  bool parse_error(std::size_t, const std::string&, const nlohmann::detail::exception& e) {
    syntax_error_ = e.what();
    return false;
  }

  // ---- after the parse: the reference reader's checks, in its order ----
  Status Finish();

 private:
  static constexpr size_t kMaxDepth = 64;  // CheckPayloadBounds allows 16

  Status Error(std::string_view field, std::string_view why) const {
    return Status::InvalidArgument("result: field '" + std::string(field) + "': " + std::string(why));
  }
  Status Name(const char* key, Scalar& v, std::string* out) const;
  Status Int(std::string_view key, const Scalar& v, int64_t* out, int64_t min, int64_t max) const;
  Status Number(const char* key, const Scalar& v, double* out, double min, double max) const;
  Status CheckReadings(const char* key, const Readings& r, size_t max_count, bool required) const;
  Status CheckScores();
  Status CheckModel();

  // A value where the stack says it belongs. `s` is the lexer's string (moved from when kept).
  bool Value(Kind kind, int64_t i, uint64_t u, double d, std::string* s) {
    if (depth_ == 0) {
      root_is_object_ = false;
      return true;
    }
    switch (stack_[depth_ - 1]) {
      case Ctx::kRoot:
        if (Scalar* f = ScalarField(field_)) Set(f, kind, i, u, d, s);
        if (field_ == Field::kScores) scores_kind_ = kind;
        if (field_ == Field::kModel) model_kind_ = kind;
        if (field_ == Field::kRawData) raw_.Reset(kind);
        if (field_ == Field::kWindow) window_.Reset(kind);
        break;
      case Ctx::kScores:
        if (score_ != nullptr) {
          score_->kind = kind;
          score_->value = d;
        }
        break;
      case Ctx::kModel:
        if (model_key_ == 1) Set(&model_name_, kind, i, u, d, s);
        if (model_key_ == 2) Set(&model_version_, kind, i, u, d, s);
        break;
      case Ctx::kRawData:
        Reading(raw_, kind, d, kRawDataReadings);
        break;
      case Ctx::kWindow:
        Reading(window_, kind, d, kMaxWindowReadings);
        break;
      case Ctx::kSkip:
        break;
    }
    return true;
  }
  static void Set(Scalar* f, Kind kind, int64_t i, uint64_t u, double d, std::string* s) {
    f->kind = kind;
    f->i = i;
    f->u = u;
    f->d = d;
    if (s != nullptr) f->s.swap(*s);  // the lexer clears its buffer before the next token
  }
  Scalar* ScalarField(Field f) {
    switch (f) {
      case Field::kDeviceId:
        return &device_id_;
      case Field::kSeq:
        return &seq_;
      case Field::kTimestamp:
        return &timestamp_;
      case Field::kPrediction:
        return &prediction_;
      case Field::kConfidence:
        return &confidence_;
      case Field::kInferenceMs:
        return &inference_ms_;
      case Field::kWindowReason:
        return &window_reason_;
      default:
        return nullptr;
    }
  }
  static void Reading(Readings& r, Kind kind, double d, size_t max_count) {
    size_t index = r.count++;
    if (r.bad_index != SIZE_MAX || r.count > max_count) return;  // the error is decided already
    if (!IsNumber(kind)) {
      r.bad_index = index;
    } else if (!FitsFloat(d)) {
      r.bad_index = index;
      r.bad_is_range = true;
    } else {
      r.out->push_back(static_cast<float>(d));
    }
  }
  void ScoreKey(const std::string& k) {
    score_ = nullptr;
    if (score_count_ > kMaxLabels) return;  // the error is decided: no need to look further
    for (Score& s : scores_) {
      if (s.label == k) {
        score_ = &s;
        return;
      }
    }
    ++score_count_;
    scores_.push_back(Score{k, Kind::kMissing, 0});
    score_ = &scores_.back();
  }
  bool Open(Kind kind) {
    Ctx ctx = Ctx::kSkip;
    if (depth_ == 0) {
      root_is_object_ = kind == Kind::kObject;
      ctx = root_is_object_ ? Ctx::kRoot : Ctx::kSkip;
    } else {
      Value(kind, 0, 0, 0, nullptr);
      if (stack_[depth_ - 1] == Ctx::kRoot) {
        if (field_ == Field::kScores && kind == Kind::kObject) {
          scores_.clear();
          score_count_ = 0;
          ctx = Ctx::kScores;
        } else if (field_ == Field::kModel && kind == Kind::kObject) {
          model_name_ = Scalar();
          model_version_ = Scalar();
          model_key_ = 0;
          ctx = Ctx::kModel;
        } else if (field_ == Field::kRawData && kind == Kind::kArray) {
          ctx = Ctx::kRawData;
        } else if (field_ == Field::kWindow && kind == Kind::kArray) {
          ctx = Ctx::kWindow;
        }
      }
    }
    if (depth_ == kMaxDepth) return false;  // unreachable after CheckPayloadBounds
    stack_[depth_++] = ctx;
    return true;
  }
  bool Close() {
    --depth_;
    return true;
  }

  ResultMessage* m_;
  Ctx stack_[kMaxDepth];
  size_t depth_ = 0;
  bool root_is_object_ = false;
  std::string syntax_error_;
  Field field_ = Field::kNone;
  Scalar device_id_, seq_, timestamp_, prediction_, confidence_, inference_ms_, window_reason_;
  Kind scores_kind_ = Kind::kMissing;
  std::vector<Score> scores_;
  size_t score_count_ = 0;  // distinct labels seen
  Score* score_ = nullptr;  // the entry the next value belongs to (null past kMaxLabels)
  Kind model_kind_ = Kind::kMissing;
  Scalar model_name_, model_version_;
  int model_key_ = 0;  // 1 name, 2 version, 0 other
  Readings raw_, window_;
};

Status ResultHandler::Name(const char* key, Scalar& v, std::string* out) const {
  if (v.kind == Kind::kMissing) return Error(key, "missing");
  if (v.kind != Kind::kString) return Error(key, "must be a string");
  std::string problem = NameProblem(v.s);
  if (!problem.empty()) return Error(key, problem);
  *out = std::move(v.s);
  return Status::Ok();
}

Status ResultHandler::Int(std::string_view key, const Scalar& v, int64_t* out, int64_t min, int64_t max) const {
  if (v.kind != Kind::kUnsigned && v.kind != Kind::kInteger) return Error(key, "must be an integer");
  std::string problem = IntProblem(v.kind == Kind::kUnsigned, v.u, v.i, min, max, out);
  if (!problem.empty()) return Error(key, problem);
  return Status::Ok();
}

Status ResultHandler::Number(const char* key, const Scalar& v, double* out, double min, double max) const {
  if (v.kind == Kind::kMissing) return Error(key, "missing");
  if (!IsNumber(v.kind)) return Error(key, "must be a number");
  double x = v.AsDouble();
  std::string problem = NumberRangeProblem(x, min, max);
  if (!problem.empty()) return Error(key, problem);
  *out = x;
  return Status::Ok();
}

Status ResultHandler::CheckReadings(const char* key, const Readings& r, size_t max_count, bool required) const {
  if (r.kind == Kind::kMissing) return required ? Error(key, "missing") : Status::Ok();
  if (r.kind != Kind::kArray) return Error(key, "must be an array of numbers");
  if (r.count > max_count) return Error(key, "more than " + std::to_string(max_count) + " readings");
  if (r.bad_index != SIZE_MAX) {
    std::string where = std::string(key) + "[" + std::to_string(r.bad_index) + "]";
    return Error(where, r.bad_is_range ? "outside the float range" : "must be a number");
  }
  return Status::Ok();
}

Status ResultHandler::CheckScores() {
  if (scores_kind_ == Kind::kMissing) return Error("all_scores", "missing");
  if (scores_kind_ != Kind::kObject || score_count_ == 0) {
    return Error("all_scores", "must be a non-empty object label -> score");
  }
  if (score_count_ > kMaxLabels) return Error("all_scores", "more than " + std::to_string(kMaxLabels) + " labels");
  bool prediction_found = false;
  m_->all_scores.reserve(scores_.size());
  for (Score& s : scores_) {
    std::string where = "all_scores." + s.label.substr(0, 64);
    std::string problem = NameProblem(s.label);
    if (!problem.empty()) return Error(where, "label " + problem);
    if (!IsNumber(s.kind)) return Error(where, "must be a number");
    problem = NumberRangeProblem(s.value, 0.0, 1.0);
    if (!problem.empty()) return Error(where, problem);
    if (s.label == m_->prediction) prediction_found = true;
    m_->all_scores.emplace_back(std::move(s.label), static_cast<float>(s.value));
  }
  if (!prediction_found) return Error("prediction", "'" + m_->prediction + "' is not a key of all_scores");
  return Status::Ok();
}

Status ResultHandler::CheckModel() {
  if (model_kind_ == Kind::kMissing) return Error("model", "missing");
  if (model_kind_ != Kind::kObject) return Error("model", "must be an object with name and version");
  if (model_name_.kind != Kind::kString) return Error("model.name", "must be a string");
  if (!model_name_.s.empty()) {
    std::string problem = NameProblem(model_name_.s);
    if (!problem.empty()) return Error("model.name", problem);
  }
  m_->model.name = std::move(model_name_.s);
  if (model_version_.kind == Kind::kMissing) return Error("model.version", "missing");
  return Int("model.version", model_version_, &m_->model.version, 0, INT64_MAX);
}

Status ResultHandler::Finish() {
  if (!syntax_error_.empty()) return Status::InvalidArgument("result: not valid JSON: " + syntax_error_);
  if (!root_is_object_) return Status::InvalidArgument("result: not a JSON object");
  EL_RETURN_IF_ERROR(Name("device_id", device_id_, &m_->device_id));
  if (seq_.kind == Kind::kMissing) return Error("seq", "missing");
  EL_RETURN_IF_ERROR(Int("seq", seq_, &m_->seq, 1, INT64_MAX));
  if (timestamp_.kind == Kind::kMissing) return Error("timestamp", "missing");
  EL_RETURN_IF_ERROR(Int("timestamp", timestamp_, &m_->timestamp_ms, 0, INT64_MAX));
  EL_RETURN_IF_ERROR(Name("prediction", prediction_, &m_->prediction));
  double confidence = 0;
  EL_RETURN_IF_ERROR(Number("confidence", confidence_, &confidence, 0.0, 1.0));
  m_->confidence = static_cast<float>(confidence);
  EL_RETURN_IF_ERROR(CheckScores());
  EL_RETURN_IF_ERROR(Number("inference_ms", inference_ms_, &m_->inference_ms, 0.0, 3.6e6));
  EL_RETURN_IF_ERROR(CheckModel());
  EL_RETURN_IF_ERROR(CheckReadings("raw_data", raw_, kRawDataReadings, true));
  EL_RETURN_IF_ERROR(CheckReadings("window", window_, kMaxWindowReadings, false));
  if (window_reason_.kind != Kind::kMissing) {
    if (window_reason_.kind != Kind::kString) return Error("window_reason", "must be a string");
    if (window_reason_.s.size() > 32) return Error("window_reason", "longer than 32 bytes");
  }
  if (!m_->window.empty()) {
    const std::string& reason = window_reason_.s;
    if (reason == "low_confidence") {
      m_->window_reason = UploadReason::kLowConfidence;
    } else if (reason == "alarm") {
      m_->window_reason = UploadReason::kAlarm;
    } else if (reason == "random") {
      m_->window_reason = UploadReason::kRandom;
    } else {
      return Error("window_reason", "must be low_confidence, alarm or random when a window is present");
    }
  }
  return Status::Ok();
}

}  // namespace

// Results are read by simdjson (json_fast_path.h); anything it leaves (integers past 64 bits,
// a BOM, every malformed message) is read again from the start by nlohmann's SAX parser, so
// errors are always nlohmann's and the reference reader's.
Result<ResultMessage> ResultFromJson(std::string_view text) {
  if (text.size() > kMaxPayloadBytes) return CheckPayloadBounds(text, "result");
  {
    ResultMessage m;
    m.raw_data.reserve(kRawDataReadings);
    ResultHandler h(&m);
    if (FeedSimdjson(text, &h)) {  // nested at most 16 deep: bounds hold
      EL_RETURN_IF_ERROR(h.Finish());
      return m;
    }
  }
  EL_RETURN_IF_ERROR(CheckPayloadBounds(text, "result"));
  ResultMessage m;
  {
    ResultHandler h(&m);
    json::sax_parse(text.begin(), text.end(), &h);
    EL_RETURN_IF_ERROR(h.Finish());
  }
  return m;
}

}  // namespace edgeloop::mqtt
