// Interpreter: Prepare (validate, infer shapes, fold what is constant, pick kernels, plan the arena)
// and Invoke (run the scheduled kernels).
#include "edgeloop/runtime/interpreter.h"

#include <algorithm>
#include <cassert>
#include <cstring>
#include <limits>
#include <new>
#include <string>
#include <vector>

#include "edgeloop/tflite/io.h"
#include "runtime/aligned_buffer.h"
#include "runtime/kernel_select.h"
#include "runtime/node.h"
#include "runtime/ops/ops.h"
#include "runtime/planner.h"

namespace edgeloop::runtime {
namespace {

constexpr size_t kAlignment = kBufferAlignment;

}  // namespace

struct Interpreter::State {
  tflite::Graph graph;
  InterpreterOptions options;
  std::vector<RtTensor> tensors;
  std::vector<Node> nodes;
  std::vector<const Node*> schedule;    // nodes Invoke runs, in order
  std::vector<AlignedBuffer> folded;    // outputs of nodes computed in Prepare
  AlignedBuffer arena;
  size_t arena_bytes = 0;
  size_t parameter_bytes = 0;

  Status Prepare();
  Status InitTensors();
  Status PrepareNode(size_t index, std::vector<bool>& ready);
  Status Fold(Node& node);
  Status PlanAndAllocate();
  void FuseConvPools(const std::vector<bool>& io);
  TensorInfo Info(int tensor) const;
};

Status Interpreter::State::InitTensors() {
  const int batch = options.batch;
  tensors.assign(graph.tensors.size(), RtTensor{});
  parameter_bytes = 0;
  for (size_t i = 0; i < graph.tensors.size(); ++i) {
    const tflite::Tensor& src = graph.tensors[i];
    RtTensor& t = tensors[i];
    t.index = static_cast<int>(i);
    t.src = &src;
    t.type = src.type;
    t.shape = src.shape;
    t.elements = tflite::NumElements(src.shape);
    t.bytes = static_cast<size_t>(t.elements) * static_cast<size_t>(tflite::TensorTypeSize(src.type));
    if (!src.quant.scale.empty()) {
      t.scale = src.quant.scale[0];
      t.zero_point = static_cast<int32_t>(std::clamp<int64_t>(src.quant.zero_point[0], INT32_MIN, INT32_MAX));
    }
    if (src.is_variable) return Status::InvalidArgument(t.label() + ": variable tensors are not supported");
    if (src.is_constant()) {
      t.kind = RtTensor::Kind::kConstant;
      t.data = const_cast<uint8_t*>(src.data.data());  // constants are never written (Prepare checks)
      parameter_bytes += src.data.size();
    }
  }
  for (int32_t in : graph.inputs) {
    RtTensor& t = tensors[in];
    if (t.is_constant()) return Status::InvalidArgument("graph input " + t.label() + " is a constant");
    if (tflite::TensorTypeSize(t.type) == 0) {
      return Status::InvalidArgument(std::string("graph input ") + t.label() + " has type " +
                                     tflite::TensorTypeName(t.type) + ", which the runtime cannot hold");
    }
    if (batch != 1) {
      const bool has_batch = !t.shape.empty() && (t.shape[0] == 1 || (!t.src->shape_signature.empty() &&
                                                                      t.src->shape_signature[0] == -1));
      if (!has_batch) {
        return Status::InvalidArgument("graph input " + t.label() + " of shape " + tflite::ShapeToString(t.shape) +
                                       " has no leading batch dimension of 1, so it cannot take a batch of " +
                                       std::to_string(batch));
      }
      t.shape[0] = batch;
    }
    t.elements = tflite::NumElements(t.shape);
    if (t.elements < 0) return Status::InvalidArgument("graph input " + t.label() + ": batch too large");
    t.bytes = static_cast<size_t>(t.elements) * static_cast<size_t>(tflite::TensorTypeSize(t.type));
  }
  return Status::Ok();
}

Status Interpreter::State::PrepareNode(size_t index, std::vector<bool>& ready) {
  const tflite::Operator& op = graph.operators[index];
  Node& node = nodes[index];
  node.index = static_cast<int>(index);
  node.op = &op;
  node.label = tflite::OperatorLabel(graph, static_cast<int>(index));
  const OpSupport* support = FindOpSupport(op.op);
  if (support == nullptr) return Status::InvalidArgument(node.label + ": operator not supported by the runtime");
  if (op.version < 1 || op.version > support->max_version) {
    return Status::InvalidArgument(node.label + ": version " + std::to_string(op.version) +
                                   " is not supported (1.." + std::to_string(support->max_version) + ")");
  }
  for (int32_t t : op.inputs) {
    if (t < 0) {
      node.inputs.push_back(nullptr);
      continue;
    }
    if (!ready[t] && !tensors[t].is_constant()) {
      return Status::InvalidArgument(node.label + ": input " + tensors[t].label() +
                                     " is read before any operator writes it");
    }
    node.inputs.push_back(&tensors[t]);
  }
  for (int32_t t : op.outputs) {
    if (tensors[t].is_constant() || ready[t]) {
      return Status::InvalidArgument(node.label + ": output " + tensors[t].label() +
                                     " is a constant, a graph input or written twice");
    }
    tensors[t].elements = -1;  // Prepare must set every output shape
    node.outputs.push_back(&tensors[t]);
  }
  if (node.inputs.empty() || node.inputs[0] == nullptr) return Status::InvalidArgument(node.label + ": no input 0");
  const PrepareContext ctx{options.batch};
  EL_RETURN_IF_ERROR(support->prepare(node, ctx));
  for (RtTensor* out : node.outputs) {
    if (out->elements < 0) return Status::InvalidArgument(node.label + ": output " + out->label() + " has no shape");
    // At batch 1 the computed shape must be the one the file declares: a mismatch means a
    // corrupt file or an operator edgeloop reads differently from TFLite.
    if (options.batch == 1 && out->shape != out->src->shape) {
      return Status::InvalidArgument(node.label + ": output " + out->label() + " computes to " +
                                     tflite::ShapeToString(out->shape) + " but the model declares " +
                                     tflite::ShapeToString(out->src->shape));
    }
  }
  if (!SelectKernel(node, options.kernels)) return Status::InvalidArgument(node.label + ": no kernel");
  bool all_constant = true;
  for (const RtTensor* in : node.inputs) all_constant &= in == nullptr || in->is_constant();
  if (all_constant || node.kernel_id == KernelId::kShape) EL_RETURN_IF_ERROR(Fold(node));
  for (int32_t t : op.outputs) ready[t] = true;
  return Status::Ok();
}

// Computes a node whose inputs are all known now (or, for SHAPE, whose input shape is), so its
// outputs become constants and Invoke skips it.
Status Interpreter::State::Fold(Node& node) {
  for (RtTensor* out : node.outputs) {
    AlignedBuffer buffer = AllocateAligned(out->bytes);
    if (!buffer) return Status::InvalidArgument(node.label + ": out of memory folding a constant");
    std::memset(buffer.get(), 0, std::max<size_t>(out->bytes, 1));
    out->data = buffer.get();
    out->kind = RtTensor::Kind::kFolded;
    folded.push_back(std::move(buffer));
  }
  AlignedBuffer scratch;
  if (node.scratch_bytes > 0) {
    scratch = AllocateAligned(node.scratch_bytes);
    if (!scratch) return Status::InvalidArgument(node.label + ": out of memory");
    node.scratch = scratch.get();
  }
  node.kernel(node);
  node.scratch = nullptr;
  node.folded = true;
  node.kernel_name = "folded";
  return Status::Ok();
}

void Interpreter::State::FuseConvPools(const std::vector<bool>& io) {
  // CONV_2D -> (aliases) -> MAX_POOL_2D where each tensor on the way has that one reader and is no
  // graph input or output: the conv's kernel may compute the pool too (FuseConvMaxPool). Then the
  // conv writes the pool's output, the pool is skipped ("fused"), and the tensors in between are
  // never written (no node outputs them any more, so they get no arena space).
  std::vector<int> readers(tensors.size(), 0);
  std::vector<Node*> reader(tensors.size(), nullptr);
  for (Node& n : nodes) {
    if (n.folded) continue;
    for (const RtTensor* in : n.inputs) {
      if (in != nullptr) ++readers[in->index], reader[in->index] = &n;
    }
  }
  for (Node& n : nodes) {
    if (n.folded || n.skipped || n.kernel_id != KernelId::kConvS8 || n.outputs.size() != 1) continue;
    int t = n.out(0).index;
    Node* pool = nullptr;
    while (!io[t] && readers[t] == 1) {
      Node* m = reader[t];
      if (m->skipped && m->kernel_id == KernelId::kCopy && m->outputs.size() == 1) {
        t = m->out(0).index;
        continue;
      }
      if (!m->skipped && !m->folded && m->kernel_id == KernelId::kMaxPoolS8 && m->in(0).index == t) pool = m;
      break;
    }
    if (pool == nullptr || !FuseConvMaxPool(n, *pool)) continue;
    n.outputs[0] = pool->outputs[0];
    pool->skipped = true;
    pool->kernel_name = "fused";
  }
}

Status Interpreter::State::PlanAndAllocate() {
  const int num_ops = static_cast<int>(nodes.size());
  // RESHAPE / EXPAND_DIMS / SQUEEZE move no bytes: their output shares the input's buffer ("alias")
  // and the node is skipped, unless the output is a graph input or output (the caller owns those
  // bytes and may expect distinct pointers). root[t] is the tensor whose buffer t uses.
  std::vector<int> root(tensors.size());
  for (size_t t = 0; t < root.size(); ++t) root[t] = static_cast<int>(t);
  std::vector<bool> io(tensors.size(), false);
  for (int32_t t : graph.inputs) io[t] = true;
  for (int32_t t : graph.outputs) io[t] = true;
  for (Node& n : nodes) {
    if (n.folded || n.kernel_id != KernelId::kCopy || n.inputs.empty() || n.inputs[0] == nullptr) continue;
    const RtTensor& in = n.in(0);
    const RtTensor& out = n.out(0);
    if (in.is_constant() || io[out.index] || in.bytes != out.bytes) continue;
    root[out.index] = root[in.index];  // nodes are in order: the input's root is final
    n.skipped = true;
    n.kernel_name = "alias";
  }
  FuseConvPools(io);
  std::vector<int> first(tensors.size(), std::numeric_limits<int>::max());
  std::vector<int> last(tensors.size(), -2);
  for (int32_t t : graph.inputs) first[t] = -1, last[t] = num_ops;  // inputs are never overwritten
  for (const Node& n : nodes) {
    if (n.folded) continue;
    for (const RtTensor* in : n.inputs) {
      if (in != nullptr && !in->is_constant()) last[in->index] = std::max(last[in->index], n.index);
    }
    for (const RtTensor* out : n.outputs) {
      first[out->index] = std::min(first[out->index], n.index);
      last[out->index] = std::max(last[out->index], n.index);
    }
  }
  for (int32_t t : graph.outputs) {
    if (!tensors[t].is_constant()) last[t] = num_ops;
  }
  // An alias keeps its root's buffer alive for as long as either is used.
  for (size_t t = 0; t < tensors.size(); ++t) {
    const int r = root[t];
    if (r == static_cast<int>(t) || first[t] == std::numeric_limits<int>::max()) continue;
    first[r] = std::min(first[r], first[t]);
    last[r] = std::max(last[r], last[t]);
  }
  std::vector<BufferRequest> requests;
  std::vector<uint8_t**> targets;
  for (RtTensor& t : tensors) {
    if (root[t.index] != t.index) continue;
    if (t.is_constant() || first[t.index] == std::numeric_limits<int>::max()) continue;
    requests.push_back({t.bytes, first[t.index], last[t.index]});
    targets.push_back(&t.data);
  }
  for (Node& n : nodes) {
    if (n.folded || n.scratch_bytes == 0) continue;
    requests.push_back({n.scratch_bytes, n.index, n.index});
    targets.push_back(&n.scratch);
  }
  const ArenaPlan plan = PlanArena(requests, kAlignment);
  if (plan.total_bytes > options.max_arena_bytes) {
    return Status::InvalidArgument("the model needs an arena of " + std::to_string(plan.total_bytes) +
                                   " bytes, above the limit of " + std::to_string(options.max_arena_bytes));
  }
  arena = AllocateAligned(plan.total_bytes);
  if (!arena) return Status::InvalidArgument("out of memory for an arena of " + std::to_string(plan.total_bytes));
  std::memset(arena.get(), 0, std::max<size_t>(plan.total_bytes, 1));
  arena_bytes = plan.total_bytes;
  for (size_t i = 0; i < requests.size(); ++i) *targets[i] = arena.get() + plan.offsets[i];
  for (RtTensor& t : tensors) {
    if (root[t.index] != t.index) t.data = tensors[root[t.index]].data;
  }
  return Status::Ok();
}

Status Interpreter::State::Prepare() {
  if (options.batch < 1) return Status::InvalidArgument("batch " + std::to_string(options.batch) + " must be >= 1");
  EL_ASSIGN_OR_RETURN(options.kernels, ResolveKernelSet(options.kernels));
  schedule.clear();
  folded.clear();
  arena.reset();
  EL_RETURN_IF_ERROR(InitTensors());
  nodes.clear();
  nodes.resize(graph.operators.size());  // Node owns its packed buffer: move-only
  std::vector<bool> ready(tensors.size(), false);
  for (int32_t t : graph.inputs) ready[t] = true;
  for (size_t i = 0; i < nodes.size(); ++i) EL_RETURN_IF_ERROR(PrepareNode(i, ready));
  for (int32_t t : graph.outputs) {
    if (!ready[t] && !tensors[t].is_constant()) {
      return Status::InvalidArgument("graph output " + tensors[t].label() + " is never written");
    }
  }
  EL_RETURN_IF_ERROR(PlanAndAllocate());
  for (const Node& n : nodes) {
    if (!n.folded && !n.skipped) schedule.push_back(&n);
  }
  return Status::Ok();
}

TensorInfo Interpreter::State::Info(int index) const {
  const RtTensor& t = tensors[index];
  TensorInfo info;
  info.name = t.src->name;
  info.type = t.type;
  info.shape = t.shape;
  info.scale = t.scale;
  info.zero_point = t.zero_point;
  info.data = t.data;
  info.bytes = t.bytes;
  return info;
}

Interpreter::Interpreter(std::unique_ptr<State> state) : state_(std::move(state)) {}
Interpreter::~Interpreter() = default;

Result<std::unique_ptr<Interpreter>> Interpreter::Create(tflite::Graph graph, const InterpreterOptions& options) {
  EL_RETURN_IF_ERROR(tflite::ValidateGraph(graph));
  auto state = std::make_unique<State>();
  state->graph = std::move(graph);
  state->options = options;
  EL_RETURN_IF_ERROR(state->Prepare());
  return std::unique_ptr<Interpreter>(new Interpreter(std::move(state)));
}

Result<std::unique_ptr<Interpreter>> Interpreter::CreateFromBytes(std::span<const uint8_t> model,
                                                                  const InterpreterOptions& options) {
  EL_ASSIGN_OR_RETURN(tflite::Graph graph, tflite::ReadModel(model));
  return Create(std::move(graph), options);
}

Status Interpreter::Invoke() {
  for (const Node* node : state_->schedule) node->kernel(*node);
  return Status::Ok();
}

Status Interpreter::Resize(int batch) {
  // Prepare a fresh state and swap it in only on success, so a failed Resize leaves the
  // interpreter as it was. Moving the graph keeps its tensors' addresses (the vectors' buffers move).
  auto fresh = std::make_unique<State>();
  fresh->graph = std::move(state_->graph);
  fresh->options = state_->options;
  fresh->options.batch = batch;
  Status s = fresh->Prepare();
  if (!s.ok()) {
    state_->graph = std::move(fresh->graph);
    return s;
  }
  state_ = std::move(fresh);
  return Status::Ok();
}

size_t Interpreter::input_count() const { return state_->graph.inputs.size(); }
size_t Interpreter::output_count() const { return state_->graph.outputs.size(); }

TensorInfo Interpreter::input(size_t i) const {
  assert(i < input_count());
  return state_->Info(state_->graph.inputs[i]);
}

TensorInfo Interpreter::output(size_t i) const {
  assert(i < output_count());
  return state_->Info(state_->graph.outputs[i]);
}

int Interpreter::batch() const { return state_->options.batch; }
size_t Interpreter::arena_bytes() const { return state_->arena_bytes; }
size_t Interpreter::parameter_bytes() const { return state_->parameter_bytes; }
const tflite::Graph& Interpreter::graph() const { return state_->graph; }

const char* Interpreter::kernel_name(size_t op) const {
  return op < state_->nodes.size() ? state_->nodes[op].kernel_name : "";
}

Result<std::vector<uint8_t>> InvokeRaw(std::span<const uint8_t> model, std::span<const uint8_t> input,
                                       KernelSet kernels) {
  InterpreterOptions options;
  options.kernels = kernels;
  EL_ASSIGN_OR_RETURN(std::unique_ptr<Interpreter> interp, Interpreter::CreateFromBytes(model, options));
  if (interp->input_count() < 1 || interp->output_count() < 1) {
    return Status::InvalidArgument("the model has no input or no output");
  }
  const size_t window = interp->input(0).bytes;
  if (window == 0 || input.empty() || input.size() % window != 0) {
    return Status::InvalidArgument("input has " + std::to_string(input.size()) + " bytes; input 0 ('" +
                                   std::string(interp->input(0).name) + "') takes " + std::to_string(window) +
                                   " per window");
  }
  const size_t windows = input.size() / window;
  if (windows > static_cast<size_t>(std::numeric_limits<int>::max())) return Status::InvalidArgument("too many windows");
  if (windows > 1) EL_RETURN_IF_ERROR(interp->Resize(static_cast<int>(windows)));
  std::memcpy(interp->input(0).data, input.data(), input.size());
  EL_RETURN_IF_ERROR(interp->Invoke());
  const TensorInfo out = interp->output(0);
  return std::vector<uint8_t>(out.data, out.data + out.bytes);
}

}  // namespace edgeloop::runtime
