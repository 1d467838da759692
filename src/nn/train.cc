// The training loop (edgeloop/nn/train.h): shards, fixed-order gradient reduction, Adam,
// validation, early stopping.
#include "edgeloop/nn/train.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>

#include "edgeloop/common/env.h"
#include "edgeloop/common/random.h"
#include "nn/adam.h"
#include "nn/gemm.h"
#include "nn/network.h"
#include "nn/thread_team.h"

namespace edgeloop::nn {
namespace {

struct Range {
  size_t begin, end;
};

// The parameter ranges thread `part` of `parts` updates: for each weight matrix the same rows
// TransposeWeights gives that thread (so it can transpose what it just updated); other tensors
// split evenly.
std::vector<Range> UpdateRanges(const Model& model, int part, int parts) {
  std::vector<Range> ranges;
  auto split = [&](size_t offset, size_t size) {
    const size_t b = offset + size * static_cast<size_t>(part) / static_cast<size_t>(parts);
    const size_t e = offset + size * static_cast<size_t>(part + 1) / static_cast<size_t>(parts);
    if (e > b) ranges.push_back({b, e});
  };
  for (const ParamLayout& p : model.layouts()) {
    if (p.weights_size > 0) {
      const size_t rows = static_cast<size_t>(p.weight_rows), cols = static_cast<size_t>(p.weight_cols);
      const size_t r0 = rows * static_cast<size_t>(part) / static_cast<size_t>(parts);
      const size_t r1 = rows * static_cast<size_t>(part + 1) / static_cast<size_t>(parts);
      if (r1 > r0) ranges.push_back({p.weights + r0 * cols, p.weights + r1 * cols});
    }
    if (p.bias_size > 0) split(p.bias, p.bias_size);
    if (p.norm_size > 0) split(p.gamma, 2 * p.norm_size);  // gamma and beta are adjacent
  }
  return ranges;
}

Status CheckSamples(const Model& model, const Samples& s, const char* what) {
  if (s.x.size() != s.size() * model.input_size()) {
    return Status::InvalidArgument(std::string(what) + ": " + std::to_string(s.x.size()) + " readings for " +
                                   std::to_string(s.size()) + " windows of " + std::to_string(model.input_size()));
  }
  if (s.size() > std::numeric_limits<uint32_t>::max()) return Status::InvalidArgument(std::string(what) + ": too many windows");
  for (size_t i = 0; i < s.size(); ++i) {
    if (s.y[i] < 0 || s.y[i] >= model.num_classes()) {
      return Status::InvalidArgument(std::string(what) + ": window " + std::to_string(i) + " has label " +
                                     std::to_string(s.y[i]) + ", outside [0, " + std::to_string(model.num_classes()) + ")");
    }
  }
  return Status::Ok();
}

}  // namespace

std::vector<float> BalancedClassWeights(std::span<const int32_t> labels, int num_classes) {
  std::vector<int64_t> counts(static_cast<size_t>(num_classes), 0);
  for (int32_t y : labels) {
    if (y >= 0 && y < num_classes) ++counts[static_cast<size_t>(y)];
  }
  // scikit-learn's "balanced": n / (classes present * count), so an absent class does not
  // lower the others' weights.
  int present = 0;
  for (int64_t count : counts) present += count > 0;
  std::vector<float> w(static_cast<size_t>(num_classes), 0.0f);
  for (int c = 0; c < num_classes; ++c) {
    if (counts[c] > 0) {
      w[c] = static_cast<float>(static_cast<double>(labels.size()) / (static_cast<double>(present) * counts[c]));
    }
  }
  return w;
}

Result<TrainHistory> Train(Model* model, const Samples& train, const Samples& validation, const TrainOptions& o,
                           TrainObserver* observer) {
  if (o.epochs < 1) return Status::InvalidArgument("epochs must be >= 1");
  if (o.batch_size < 1) return Status::InvalidArgument("batch size must be >= 1");
  if (o.shard_size < 1) return Status::InvalidArgument("shard size must be >= 1");
  if (!(o.learning_rate > 0) || !std::isfinite(o.learning_rate)) return Status::InvalidArgument("learning rate must be > 0");
  if (!(o.beta1 >= 0 && o.beta1 < 1) || !(o.beta2 >= 0 && o.beta2 < 1)) {
    return Status::InvalidArgument("Adam betas must be in [0, 1)");
  }
  if (!(o.epsilon > 0)) return Status::InvalidArgument("Adam epsilon must be > 0");
  if (o.patience < 0) return Status::InvalidArgument("patience must be >= 0");
  if (o.threads < 0) return Status::InvalidArgument("threads must be >= 0");
  if (train.size() == 0) return Status::InvalidArgument("no training windows");
  EL_RETURN_IF_ERROR(CheckSamples(*model, train, "training data"));
  EL_RETURN_IF_ERROR(CheckSamples(*model, validation, "validation data"));
  const int k = model->num_classes();
  if (!o.class_weights.empty()) {
    if (o.class_weights.size() != static_cast<size_t>(k)) {
      return Status::InvalidArgument("class weights: " + std::to_string(o.class_weights.size()) + " given for " +
                                     std::to_string(k) + " classes");
    }
    for (float w : o.class_weights) {
      if (!(w >= 0) || !std::isfinite(w)) return Status::InvalidArgument("class weights must be finite and >= 0");
    }
  }

  Env* env = Env::Default();
  const int64_t start_us = env->NowMicros();
  const size_t n = train.size();
  const int batch = static_cast<int>(std::min<size_t>(static_cast<size_t>(o.batch_size), n));
  const int shard = std::min(o.shard_size, batch);
  const int shards_per_batch = (batch + shard - 1) / shard;
  int threads = o.threads > 0 ? o.threads : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  threads = std::min(threads, 256);
  const size_t num_ws = static_cast<size_t>(std::max(shards_per_batch, threads));
  const size_t num_params = model->parameters().size();
  const int steps = static_cast<int>((n + static_cast<size_t>(batch) - 1) / static_cast<size_t>(batch));
  const size_t n_val = validation.size();
  const int val_chunks = static_cast<int>((n_val + static_cast<size_t>(shard) - 1) / static_cast<size_t>(shard));

  // Everything the step loop touches, allocated here.
  std::vector<Workspace> ws(num_ws);
  std::vector<std::vector<int32_t>> labels(num_ws, std::vector<int32_t>(static_cast<size_t>(shard)));
  for (Workspace& w : ws) InitWorkspace(*model, shard, &w);
  // Gradients, losses and hit counts are double-buffered by step parity (see the step loop).
  const size_t spb = static_cast<size_t>(shards_per_batch);
  std::vector<AlignedVector> grads(2 * spb, AlignedVector(num_params, 0.0f));
  std::vector<const float*> grad_ptrs;
  for (AlignedVector& g : grads) grad_ptrs.push_back(g.data());
  std::vector<double> shard_loss(2 * spb);
  std::vector<int> shard_correct(2 * spb);
  // Without batch norm, every thread that computes shards keeps its own copy of the parameters
  // (thread 0's is the model's) and applies the whole Adam update itself from the shared
  // gradients: the update is element-wise, so the copies stay bit-identical, and a step needs
  // one barrier instead of two (the machine this runs on is shared, and every barrier can wait
  // for a descheduled thread). Batch-norm moving statistics are reduced by thread 0 from every
  // shard's workspace, so with batch norm the update is split by rows and a second barrier
  // keeps the workspaces stable until it is done.
  std::vector<size_t> bn_layers;
  for (size_t i = 0; i < model->spec().layers.size(); ++i) {
    if (model->spec().layers[i].type == LayerType::kBatchNorm) bn_layers.push_back(i);
  }
  const bool replicate = bn_layers.empty();
  const int copies = replicate ? std::min(threads, shards_per_batch) : 1;
  struct Replica {
    AlignedVector params, wt, m, v;
  };
  std::vector<Replica> replicas(static_cast<size_t>(copies));
  for (Replica& r : replicas) {
    r.wt.assign(num_params, 0.0f);
    r.m.assign(num_params, 0.0f);
    r.v.assign(num_params, 0.0f);
  }
  for (size_t c = 1; c < replicas.size(); ++c) replicas[c].params.assign(num_params, 0.0f);
  std::vector<std::vector<Range>> ranges;
  for (int t = 0; t < threads; ++t) ranges.push_back(UpdateRanges(*model, t, threads));
  std::vector<uint32_t> perm(n);
  std::vector<float> val_loss_per(n_val), val_probs(n_val * k);
  std::vector<int32_t> val_pred(n_val);
  std::vector<float> best_params, best_state, best_probs;
  std::vector<int32_t> best_pred;
  const float* class_weights = o.class_weights.empty() ? nullptr : o.class_weights.data();

  float* params = model->mutable_parameters().data();
  float* state = model->mutable_state().data();
  const AdamConfig adam{o.learning_rate, o.beta1, o.beta2, o.epsilon};
  std::vector<float*> replica_params(replicas.size(), params);
  for (size_t c = 0; c < replicas.size(); ++c) {
    if (c > 0) {
      std::copy(params, params + num_params, replicas[c].params.data());
      replica_params[c] = replicas[c].params.data();
    }
    TransposeWeights(*model, params, replicas[c].wt.data(), 0, 1);
  }

  TrainHistory history;
  history.threads = threads;
  history.kernel = GemmIsaName(SelectedGemmIsa());
  ThreadTeam team(threads);
  double best_val_loss = std::numeric_limits<double>::infinity();
  int wait = 0;
  int64_t adam_step = 0;

  for (int epoch = 1; epoch <= o.epochs; ++epoch) {
    const int64_t epoch_start = env->NowMicros();
    if (observer) observer->OnEpochBegin(epoch, o.epochs);
    std::iota(perm.begin(), perm.end(), 0u);
    Rng shuffle_rng(DeriveSeed(o.seed, 0x5EED, static_cast<uint64_t>(epoch)));
    shuffle_rng.Shuffle(std::span<uint32_t>(perm));
    double loss_sum = 0;
    int64_t correct = 0, seen = 0;

    const int64_t step_base = adam_step;
    team.Run([&](int t) {
      // Thread t works on replica t (replicate) or on the one shared copy.
      const size_t rep = replicate ? static_cast<size_t>(t) : 0;
      const bool has_replica = rep < replicas.size();
      float* my_params = has_replica ? replica_params[rep] : params;
      const float* my_wt = has_replica ? replicas[rep].wt.data() : nullptr;
      for (int step = 0; step < steps; ++step) {
        const size_t b0 = static_cast<size_t>(step) * static_cast<size_t>(batch);
        const int bn = static_cast<int>(std::min<size_t>(static_cast<size_t>(batch), n - b0));
        const int shards = (bn + shard - 1) / shard;
        const float grad_scale = 1.0f / static_cast<float>(bn);  // Keras: mean over the batch
        // Buffers of this step's parity: a thread still reading them (Adam, below) has not
        // reached the next step's barrier, so nobody writes them again before it is done.
        const size_t par = static_cast<size_t>(step & 1) * spb;
        for (int s = t; s < shards; s += threads) {
          const int rows = std::min(shard, bn - s * shard);
          const size_t first = b0 + static_cast<size_t>(s) * static_cast<size_t>(shard);
          Workspace& w = ws[static_cast<size_t>(s)];
          int32_t* lab = labels[static_cast<size_t>(s)].data();
          for (int r = 0; r < rows; ++r) lab[r] = train.y[perm[first + static_cast<size_t>(r)]];
          GatherInput(*model, train.x.data(), perm.data(), first, rows, &w);
          Rng rng(DeriveSeed(o.seed, static_cast<uint64_t>(epoch), static_cast<uint64_t>(step), static_cast<uint64_t>(s)));
          Forward(*model, my_params, state, &w, rows, true, &rng);
          LossResult lr = SoftmaxCrossEntropy(*model, &w, lab, rows, class_weights, grad_scale, nullptr, nullptr);
          Backward(*model, my_params, my_wt, &w, rows, grads[par + static_cast<size_t>(s)].data(), false);
          shard_loss[par + static_cast<size_t>(s)] = lr.loss_sum;
          shard_correct[par + static_cast<size_t>(s)] = lr.correct;
        }
        team.Barrier();
        // The step number comes from the loop, not from adam_step: thread 0 advances that one
        // while the others may still be about to read it.
        const float lr_t = AdamStepSize(adam, step_base + step + 1);
        const float* const* g = grad_ptrs.data() + par;
        if (replicate) {
          if (has_replica) {
            Replica& r = replicas[rep];
            AdamUpdate(adam, lr_t, my_params, r.m.data(), r.v.data(), g, shards, 0, num_params);
            TransposeWeights(*model, my_params, r.wt.data(), 0, 1);
          }
        } else {
          Replica& r = replicas[0];
          for (const Range& range : ranges[static_cast<size_t>(t)]) {
            AdamUpdate(adam, lr_t, params, r.m.data(), r.v.data(), g, shards, range.begin, range.end);
          }
          TransposeWeights(*model, params, r.wt.data(), t, threads);
        }
        if (t == 0) {
          for (size_t li : bn_layers) {
            const ParamLayout& p = model->layouts()[li];
            const float momentum = model->spec().layers[li].momentum;
            const size_t c = p.norm_size;
            for (size_t ch = 0; ch < c; ++ch) {
              double mean = 0, var = 0;
              for (int s = 0; s < shards; ++s) {
                const float* stats = ws[static_cast<size_t>(s)].scratch[li].data();
                mean += stats[ch];
                var += stats[2 * c + ch];
              }
              mean /= shards;
              var /= shards;
              float& mm = state[p.moving_mean + ch];
              float& mv = state[p.moving_variance + ch];
              mm = mm * momentum + static_cast<float>(mean) * (1.0f - momentum);
              mv = mv * momentum + static_cast<float>(var) * (1.0f - momentum);
            }
          }
          for (int s = 0; s < shards; ++s) {
            loss_sum += shard_loss[par + static_cast<size_t>(s)];
            correct += shard_correct[par + static_cast<size_t>(s)];
          }
          seen += bn;
          if (observer) {
            observer->OnStep(step + 1, steps, loss_sum / static_cast<double>(seen),
                             static_cast<double>(correct) / static_cast<double>(seen));
          }
        }
        if (!replicate) team.Barrier();
      }
    });

    adam_step += steps;
    EpochStats stats;
    stats.epoch = epoch;
    stats.loss = loss_sum / static_cast<double>(n);
    stats.accuracy = static_cast<double>(correct) / static_cast<double>(n);
    stats.val_loss = std::numeric_limits<double>::quiet_NaN();
    stats.val_accuracy = std::numeric_limits<double>::quiet_NaN();
    if (n_val > 0) {
      team.Run([&](int t) {
        Workspace& w = ws[static_cast<size_t>(t)];
        for (int c = t; c < val_chunks; c += threads) {
          const size_t first = static_cast<size_t>(c) * static_cast<size_t>(shard);
          const int rows = static_cast<int>(std::min<size_t>(static_cast<size_t>(shard), n_val - first));
          GatherInput(*model, validation.x.data(), nullptr, first, rows, &w);
          Forward(*model, params, state, &w, rows, false, nullptr);
          SoftmaxCrossEntropy(*model, &w, validation.y.data() + first, rows, nullptr, 0.0f, val_loss_per.data() + first,
                              val_pred.data() + first);
          const float* p = Probabilities(*model, w);
          std::copy(p, p + static_cast<size_t>(rows) * k, val_probs.data() + first * k);
        }
      });
      double vl = 0;
      int64_t vc = 0;
      for (size_t i = 0; i < n_val; ++i) {
        vl += val_loss_per[i];
        vc += val_pred[i] == validation.y[i];
      }
      stats.val_loss = vl / static_cast<double>(n_val);
      stats.val_accuracy = static_cast<double>(vc) / static_cast<double>(n_val);
    }
    stats.seconds = static_cast<double>(env->NowMicros() - epoch_start) * 1e-6;
    history.epochs.push_back(stats);
    if (!std::isfinite(stats.loss)) {
      return Status::InvalidArgument("training diverged: the loss is not finite at epoch " + std::to_string(epoch) +
                                     "; lower the learning rate");
    }
    bool stop = false;
    if (n_val > 0) {
      if (stats.val_loss < best_val_loss) {
        best_val_loss = stats.val_loss;
        history.best_epoch = epoch;
        wait = 0;
        best_params.assign(params, params + num_params);
        best_state.assign(model->state().begin(), model->state().end());
        best_pred = val_pred;
        best_probs = val_probs;
      } else if (o.patience > 0 && ++wait >= o.patience) {
        history.early_stopped = true;
        stop = true;
      }
    } else {
      history.best_epoch = epoch;
    }
    if (observer && !observer->OnEpochEnd(stats)) {
      history.stopped_by_observer = true;
      stop = true;
    }
    if (stop) break;
  }
  const int last_epoch = history.epochs.back().epoch;
  if (n_val > 0 && o.restore_best_weights && history.best_epoch != last_epoch && !best_params.empty()) {
    std::copy(best_params.begin(), best_params.end(), params);
    std::copy(best_state.begin(), best_state.end(), state);
    history.val_predictions = std::move(best_pred);
    history.val_probabilities = std::move(best_probs);
    history.weights_epoch = history.best_epoch;
  } else {
    history.weights_epoch = last_epoch;
    history.val_predictions = std::move(val_pred);
    history.val_probabilities = std::move(val_probs);
  }
  history.seconds = static_cast<double>(env->NowMicros() - start_us) * 1e-6;
  return history;
}

}  // namespace edgeloop::nn
