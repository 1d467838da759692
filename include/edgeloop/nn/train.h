// Training a Model: mini-batch Adam on softmax cross-entropy, with class weights, per-epoch
// validation, early stopping on the validation loss with best-weights restore, as Keras'
// model.fit(..., callbacks=[EarlyStopping(patience=5, restore_best_weights=True)]).
//
// Data parallelism and reproducibility: every batch is cut into fixed shards of `shard_size`
// windows (16 by default; a batch of 32 is two shards). Threads take shards round-robin, each
// shard's gradient is computed in its own buffer, and the gradients are summed in shard order;
// the Adam update is element-wise (each computing thread applies all of it to its own parameter
// copy, one barrier per step; with batch norm it is split across threads by rows). Dropout masks come from a
// stream derived from (seed, epoch, step, shard). So the result depends on the seed, the data and
// shard_size only: the same bits for 1, 2 or 16 threads, and for the AVX-512, AVX2 and portable
// kernels. Batch-norm statistics are per shard ("ghost batch norm"), for the same reason.
// Nothing is allocated inside the step loop.
// Thread-safety: Train uses its own threads; the observer is called from the calling thread.
#ifndef EDGELOOP_NN_TRAIN_H_
#define EDGELOOP_NN_TRAIN_H_

#include <cstdint>
#include <span>
#include <vector>

#include "edgeloop/common/status.h"
#include "edgeloop/nn/model.h"

namespace edgeloop::nn {

struct TrainOptions {
  int epochs = 50;
  int batch_size = 32;
  double learning_rate = 1e-3;  // Adam, Keras defaults
  double beta1 = 0.9;
  double beta2 = 0.999;
  double epsilon = 1e-7;
  int patience = 5;                 // epochs without a lower val_loss before stopping; 0 = never
  bool restore_best_weights = true;
  uint64_t seed = 0;                // shuffling and dropout (initialisation is Model::Create's)
  int threads = 0;                  // 0 = all cores
  int shard_size = 16;              // windows per data-parallel shard (see above)
  std::vector<float> class_weights;  // empty = 1 for every class
};

// Windows (raw; the model's normalisation is applied on the fly) and their labels.
struct Samples {
  std::span<const float> x;      // n * model.input_size()
  std::span<const int32_t> y;    // n
  size_t size() const { return y.size(); }
};

struct EpochStats {
  int epoch = 0;               // 1-based
  double loss = 0;             // mean class-weighted training loss (dropout on), as Keras reports
  double accuracy = 0;         // training accuracy (dropout on)
  double val_loss = 0;         // unweighted; NaN without validation data
  double val_accuracy = 0;
  double seconds = 0;          // wall time of the epoch including validation
};

struct TrainHistory {
  std::vector<EpochStats> epochs;
  int best_epoch = 0;          // 1-based epoch with the lowest val_loss (the last without validation)
  int weights_epoch = 0;       // the epoch whose weights the model holds (best_epoch when restored)
  bool early_stopped = false;
  bool stopped_by_observer = false;
  double seconds = 0;
  int threads = 1;
  const char* kernel = "";     // "avx512", "avx2" or "portable"
  std::vector<int32_t> val_predictions;  // arg-max class per validation window, for the held weights
  std::vector<float> val_probabilities;  // n_val x num_classes, for the held weights
};

// Progress callbacks, all on the calling thread.
class TrainObserver {
 public:
  virtual ~TrainObserver() = default;
  virtual void OnEpochBegin(int epoch, int epochs) { (void)epoch, (void)epochs; }
  // After every step; loss/accuracy are running means over the epoch so far.
  virtual void OnStep(int step, int steps, double loss, double accuracy) {
    (void)step, (void)steps, (void)loss, (void)accuracy;
  }
  // Return false to stop training after this epoch.
  virtual bool OnEpochEnd(const EpochStats& stats) { (void)stats; return true; }
};

// Trains `model` in place. Its normalisation must already be set (FitNormalization on the
// training windows). `validation` may be empty (then no early stopping and val_* are NaN).
// Errors: InvalidArgument for bad options, sizes, or labels out of range.
Result<TrainHistory> Train(Model* model, const Samples& train, const Samples& validation,
                           const TrainOptions& options, TrainObserver* observer = nullptr);

// scikit-learn's "balanced" weights (what Keras users pass as class_weight):
// n / (classes present * count[c]), 0 for an absent class.
std::vector<float> BalancedClassWeights(std::span<const int32_t> labels, int num_classes);

}  // namespace edgeloop::nn

#endif  // EDGELOOP_NN_TRAIN_H_
