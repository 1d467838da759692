#include "edgeloop/classifier/classifier.h"

#include <algorithm>
#include <cstring>

#include "edgeloop/common/env.h"
#include "edgeloop/runtime/quantization.h"
#include "edgeloop/tflite/io.h"

namespace edgeloop::classifier {
namespace {

using tflite::TensorType;

// Elements of one window in a tensor whose leading dimension is the batch.
int64_t PerWindow(const runtime::TensorInfo& t, int batch) {
  int64_t n = 1;
  for (int32_t d : t.shape) n *= d;
  return batch > 0 ? n / batch : n;
}

bool SupportedIoType(TensorType t) {
  return t == TensorType::kFloat32 || t == TensorType::kInt8 || t == TensorType::kUInt8;
}

}  // namespace

Classifier::~Classifier() = default;

Result<std::unique_ptr<Classifier>> Classifier::Load(std::span<const uint8_t> model, const ClassifierOptions& options) {
  EL_ASSIGN_OR_RETURN(tflite::Graph graph, tflite::ReadModel(model));
  std::unique_ptr<Classifier> c(new Classifier());
  c->options_ = options;
  c->options_.max_batch = std::max(1, options.max_batch);
  auto meta = graph.metadata.find(tflite::kEdgeloopMetadataName);
  if (meta != graph.metadata.end()) {
    EL_ASSIGN_OR_RETURN(c->metadata_, MetadataFromJson(meta->second));
    c->has_metadata_ = true;
  }
  runtime::InterpreterOptions io;
  io.kernels = options.kernels;
  EL_ASSIGN_OR_RETURN(c->single_, runtime::Interpreter::Create(std::move(graph), io));
  if (c->single_->input_count() < 1 || c->single_->output_count() < 1) {
    return Status::InvalidArgument("classifier: the model needs an input and an output");
  }
  const runtime::TensorInfo in = c->single_->input(0);
  const runtime::TensorInfo out = c->single_->output(0);
  if (!SupportedIoType(in.type) || !SupportedIoType(out.type)) {
    return Status::InvalidArgument(std::string("classifier: input 0 is ") + tflite::TensorTypeName(in.type) +
                                   " and output 0 is " + tflite::TensorTypeName(out.type) +
                                   "; FLOAT32, INT8 or UINT8 expected");
  }
  const int64_t in_elements = PerWindow(in, 1);
  const int64_t out_elements = PerWindow(out, 1);
  if (!c->has_metadata_) {
    c->metadata_.channels = in.shape.size() >= 3 && in.shape.back() == 3 ? 3 : 1;
    c->metadata_.length = static_cast<int>(in_elements / c->metadata_.channels);
    for (int64_t i = 0; i < out_elements; ++i) c->metadata_.labels.push_back("class" + std::to_string(i));
  }
  if (static_cast<int64_t>(c->window_size()) != in_elements) {
    return Status::InvalidArgument("classifier: metadata says windows of " + std::to_string(c->metadata_.length) +
                                   " x " + std::to_string(c->metadata_.channels) + " readings, but input '" +
                                   std::string(in.name) + "' holds " + std::to_string(in_elements));
  }
  if (static_cast<int64_t>(c->metadata_.labels.size()) != out_elements) {
    return Status::InvalidArgument("classifier: metadata lists " + std::to_string(c->metadata_.labels.size()) +
                                   " labels, but output '" + std::string(out.name) + "' has " +
                                   std::to_string(out_elements) + " values");
  }
  return c;
}

Result<std::unique_ptr<Classifier>> Classifier::LoadFile(const std::string& path, const ClassifierOptions& options) {
  EL_ASSIGN_OR_RETURN(std::string bytes, Env::Default()->ReadFile(path));
  auto c = Load(std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size()), options);
  if (!c.ok()) return c.status().WithPrefix(path);
  return c;
}

Status Classifier::FillInput(std::span<const float> window, const runtime::TensorInfo& input) const {
  const size_t n = window_size();
  if (window.size() != n) {
    return Status::InvalidArgument("classifier: a window has " + std::to_string(n) + " readings, got " +
                                   std::to_string(window.size()));
  }
  const size_t element = static_cast<size_t>(tflite::TensorTypeSize(input.type));
  if (input.bytes < n * element) return Status::InvalidArgument("classifier: input tensor smaller than a window");
  const int channels = metadata_.channels;
  const bool normalise = !metadata_.mean.empty();
  for (size_t i = 0; i < n; ++i) {
    float x = window[i];
    if (normalise) {
      const size_t c = i % static_cast<size_t>(channels);
      x = (x - metadata_.mean[c]) / metadata_.std[c];
    }
    switch (input.type) {
      case TensorType::kFloat32:
        std::memcpy(input.data + 4 * i, &x, 4);
        break;
      case TensorType::kInt8:
        input.data[i] = static_cast<uint8_t>(
            static_cast<int8_t>(runtime::QuantizeValue(x, input.scale, input.zero_point, TensorType::kInt8)));
        break;
      default:  // kUInt8 (Load admits nothing else)
        input.data[i] =
            static_cast<uint8_t>(runtime::QuantizeValue(x, input.scale, input.zero_point, TensorType::kUInt8));
        break;
    }
  }
  return Status::Ok();
}

void Classifier::PredictionsFromOutput(const runtime::TensorInfo& output, size_t windows,
                                       std::vector<Prediction>* out) const {
  const size_t classes = metadata_.labels.size();
  for (size_t w = 0; w < windows; ++w) {
    Prediction p;
    p.scores.resize(classes);
    for (size_t k = 0; k < classes; ++k) {
      const size_t i = w * classes + k;
      switch (output.type) {
        case TensorType::kFloat32: std::memcpy(&p.scores[k], output.data + 4 * i, 4); break;
        case TensorType::kInt8:
          p.scores[k] = runtime::DequantizeValue(static_cast<int8_t>(output.data[i]), output.scale, output.zero_point);
          break;
        default: p.scores[k] = runtime::DequantizeValue(output.data[i], output.scale, output.zero_point); break;
      }
    }
    p.index = static_cast<int>(std::max_element(p.scores.begin(), p.scores.end()) - p.scores.begin());
    p.label = metadata_.labels[p.index];
    p.confidence = p.scores[p.index];
    out->push_back(std::move(p));
  }
}

Result<Prediction> Classifier::Classify(std::span<const float> window) {
  EL_RETURN_IF_ERROR(FillInput(window, single_->input(0)));
  EL_RETURN_IF_ERROR(single_->Invoke());
  std::vector<Prediction> p;
  PredictionsFromOutput(single_->output(0), 1, &p);
  return std::move(p[0]);
}

Result<std::vector<Prediction>> Classifier::ClassifyBatch(std::span<const float> windows) {
  const size_t size = window_size();
  if (windows.size() % size != 0) {
    return Status::InvalidArgument("classifier: " + std::to_string(windows.size()) +
                                   " readings are not a whole number of windows of " + std::to_string(size));
  }
  const size_t count = windows.size() / size;
  std::vector<Prediction> out;
  out.reserve(count);
  if (batched_ == nullptr && !batch_unsupported_ && count > 1 && options_.max_batch > 1) {
    runtime::InterpreterOptions io;
    io.kernels = options_.kernels;
    io.batch = options_.max_batch;
    auto batched = runtime::Interpreter::Create(single_->graph(), io);
    if (batched.ok()) {
      batched_ = std::move(batched).value();
    } else {
      batch_unsupported_ = true;  // e.g. an input without a leading batch dimension: one at a time
    }
  }
  size_t done = 0;
  while (done < count) {
    const size_t chunk = batched_ == nullptr ? 1 : std::min(count - done, static_cast<size_t>(options_.max_batch));
    runtime::Interpreter& interp = chunk == 1 ? *single_ : *batched_;
    const runtime::TensorInfo in = interp.input(0);
    const size_t window_bytes = in.bytes / static_cast<size_t>(interp.batch());
    for (size_t w = 0; w < chunk; ++w) {
      runtime::TensorInfo slot = in;
      slot.data = in.data + w * window_bytes;
      slot.bytes = window_bytes;
      EL_RETURN_IF_ERROR(FillInput(windows.subspan((done + w) * size, size), slot));
    }
    // A short last chunk leaves stale windows in the unused slots; their outputs are ignored.
    EL_RETURN_IF_ERROR(interp.Invoke());
    PredictionsFromOutput(interp.output(0), chunk, &out);
    done += chunk;
  }
  return out;
}

}  // namespace edgeloop::classifier
