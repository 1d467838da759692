// bench_bench_train_compare: the edgeloop side of bench/train_compare/run. Trains the reference model (or the
// default model for the data's shape) on a training CSV, validates on another, for a fixed number
// of epochs without early stopping, and prints one JSON line: seconds per epoch (median and each),
// validation accuracy, threads, kernel.
//
//   bench_train_compare --train t.csv --validation v.csv [--epochs 5] [--threads 2] [--batch-size 32]
//                 [--channels 1] [--seed 0]
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <string>

#include "edgeloop/data/csv.h"
#include "edgeloop/nn/model.h"
#include "edgeloop/nn/train.h"

using namespace edgeloop;  // NOLINT: a benchmark main

namespace {

double ProcessCpuSeconds() {
  timespec ts{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + 1e-9 * static_cast<double>(ts.tv_nsec);
}

// CPU seconds (all threads) per epoch: on a machine other jobs load, wall time measures the
// neighbours as much as us; CPU time does not (it counts spinning, so it is not flattering).
class CpuClock : public nn::TrainObserver {
 public:
  void OnEpochBegin(int, int) override { start_ = ProcessCpuSeconds(); }
  bool OnEpochEnd(const nn::EpochStats&) override {
    cpu.push_back(ProcessCpuSeconds() - start_);
    return true;
  }
  std::vector<double> cpu;

 private:
  double start_ = 0;
};

double Median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

}  // namespace

int main(int argc, char** argv) {
  std::string train_path, val_path;
  int epochs = 5, threads = 0, batch = 32, channels = 1;
  uint64_t seed = 0;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string f = argv[i];
    const char* v = argv[i + 1];
    if (f == "--train") train_path = v;
    else if (f == "--validation") val_path = v;
    else if (f == "--epochs") epochs = std::atoi(v);
    else if (f == "--threads") threads = std::atoi(v);
    else if (f == "--batch-size") batch = std::atoi(v);
    else if (f == "--channels") channels = std::atoi(v);
    else if (f == "--seed") seed = std::strtoull(v, nullptr, 10);
    else {
      std::fprintf(stderr, "bench_train_compare: unknown flag %s\n", f.c_str());
      return 2;
    }
  }
  if (train_path.empty() || val_path.empty()) {
    std::fprintf(stderr, "usage: bench_train_compare --train t.csv --validation v.csv [--epochs N] [--threads T]\n");
    return 2;
  }
  data::CsvReadOptions ro;
  ro.channels = channels;
  auto train = data::ReadCsvFile(train_path, ro);
  if (!train.ok()) {
    std::fprintf(stderr, "bench_train_compare: %s\n", train.status().ToString().c_str());
    return 1;
  }
  ro.labels = train->labels;
  ro.length = train->length;
  auto val = data::ReadCsvFile(val_path, ro);
  if (!val.ok()) {
    std::fprintf(stderr, "bench_train_compare: %s\n", val.status().ToString().c_str());
    return 1;
  }
  auto model = nn::Model::Create(nn::DefaultModelSpec(train->length, train->channels),
                                 static_cast<int>(train->labels.size()), seed);
  if (!model.ok()) {
    std::fprintf(stderr, "bench_train_compare: %s\n", model.status().ToString().c_str());
    return 1;
  }
  std::vector<float> mean, stdv;
  nn::FitNormalization(train->x, train->length, train->channels, &mean, &stdv);
  (void)model->SetNormalization(mean, stdv);
  nn::TrainOptions o;
  o.epochs = epochs;
  o.batch_size = batch;
  o.threads = threads;
  o.seed = seed;
  o.patience = 0;
  CpuClock clock;
  auto h = nn::Train(&*model, {train->x, train->y}, {val->x, val->y}, o, &clock);
  if (!h.ok()) {
    std::fprintf(stderr, "bench_train_compare: %s\n", h.status().ToString().c_str());
    return 1;
  }
  std::vector<double> secs;
  std::string each;
  for (const auto& e : h->epochs) {
    secs.push_back(e.seconds);
    each += (each.empty() ? "" : ", ") + std::to_string(e.seconds);
  }
  std::printf("{\"framework\": \"edgeloop\", \"kernel\": \"%s\", \"threads\": %d, \"seconds_per_epoch\": %.6f, "
              "\"cpu_seconds_per_epoch\": %.6f, \"epoch_seconds\": [%s], \"val_accuracy\": %.6f}\n",
              h->kernel, h->threads, Median(secs), Median(clock.cpu), each.c_str(), h->epochs.back().val_accuracy);
  return 0;
}
