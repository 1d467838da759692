// bench_result_parse: thread CPU time per ResultFromJson call on result messages as the agent and
// the fleet simulator write them (4 labels, 10 raw readings; and with a 128-reading window), for
// ResultFromJson (simdjson fast path, nlohmann SAX fallback) and the DOM reader it replaced
// (ResultFromJsonDom) in the same process, interleaved by round. Prints one line per message set:
// best-round ns/result of each and the ratio DOM / ResultFromJson.
#include <time.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "edgeloop/mqtt/messages.h"
#include "mqtt/message_rules.h"

namespace {

using edgeloop::mqtt::ResultMessage;

double ThreadCpuNs() {
  timespec ts;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) * 1e9 + static_cast<double>(ts.tv_nsec);
}

std::vector<std::string> Messages(int n, int window) {
  std::mt19937 rng(42);
  std::normal_distribution<float> reading(0.0f, 1.5f);
  std::uniform_real_distribution<float> score(0.0f, 1.0f);
  const char* labels[] = {"normal", "imbalance", "misalignment", "failure"};
  std::vector<std::string> out;
  for (int i = 0; i < n; ++i) {
    ResultMessage m;
    char dev[32];
    std::snprintf(dev, sizeof dev, "dev-%05d", i % 1000);
    m.device_id = dev;
    m.seq = 1000 + i;
    m.timestamp_ms = 1795000000000 + 250LL * i;
    float total = 0, s[4];
    for (float& x : s) total += (x = score(rng));
    size_t best = 0;
    for (size_t k = 0; k < 4; ++k) {
      s[k] /= total;
      if (s[k] > s[best]) best = k;
      m.all_scores.emplace_back(labels[k], s[k]);
    }
    m.prediction = labels[best];
    m.confidence = s[best];
    m.inference_ms = 0.001 * (1000 + i % 700);
    m.model = {"vibration-cnn", 7};
    std::vector<float> w(static_cast<size_t>(std::max(window, 10)));
    for (float& x : w) x = reading(rng);
    m.raw_data.assign(w.begin(), w.begin() + 10);
    if (window > 0) {
      m.window = w;
      m.window_reason = edgeloop::mqtt::UploadReason::kLowConfidence;
    }
    out.push_back(edgeloop::mqtt::ResultToJson(m));
  }
  return out;
}

template <typename F>
double NsPerResult(const std::vector<std::string>& msgs, F parse) {
  size_t sink = 0;
  double t0 = ThreadCpuNs();
  for (const std::string& s : msgs) {
    auto r = parse(s);
    if (!r.ok()) {
      std::fprintf(stderr, "bench_result_parse: %s\n", r.status().message().c_str());
      std::exit(1);
    }
    sink += r->all_scores.size() + r->window.size();
  }
  double ns = (ThreadCpuNs() - t0) / static_cast<double>(msgs.size());
  if (sink == 0) std::exit(1);
  return ns;
}

}  // namespace

int main(int argc, char** argv) {
  int rounds = 15, n = 2000;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (std::strcmp(argv[i], "--rounds") == 0) {
      rounds = std::atoi(argv[i + 1]);
    } else if (std::strcmp(argv[i], "--messages") == 0) {
      n = std::atoi(argv[i + 1]);
    } else {
      std::fprintf(stderr, "usage: bench_result_parse [--rounds N] [--messages N]\n");
      return 2;
    }
  }
  if (rounds < 1 || n < 1) {
    std::fprintf(stderr, "bench_result_parse: --rounds and --messages must be >= 1\n");
    return 2;
  }
  struct Set {
    const char* name;
    int window;
  };
  for (Set set : {Set{"no window (fleet/ingest)", 0}, Set{"window of 128 readings", 128}}) {
    std::vector<std::string> msgs = Messages(n, set.window);
    size_t bytes = 0;
    for (const auto& s : msgs) bytes += s.size();
    // Same answers first: the benchmark is meaningless if the readers disagree.
    for (const auto& s : msgs) {
      auto a = edgeloop::mqtt::ResultFromJson(s);
      auto b = edgeloop::mqtt::ResultFromJsonDom(s);
      if (!a.ok() || !b.ok() || a->all_scores != b->all_scores || a->window != b->window ||
          a->raw_data != b->raw_data || a->seq != b->seq) {
        std::fprintf(stderr, "bench_result_parse: the readers disagree on %s\n", s.c_str());
        return 1;
      }
    }
    double best_sax = 1e300, best_dom = 1e300;
    for (int r = 0; r < rounds; ++r) {
      best_dom = std::min(best_dom, NsPerResult(msgs, [](const std::string& s) {
                            return edgeloop::mqtt::ResultFromJsonDom(s);
                          }));
      best_sax = std::min(best_sax, NsPerResult(msgs, [](const std::string& s) {
                            return edgeloop::mqtt::ResultFromJson(s);
                          }));
    }
    std::printf("result_parse %-26s %5zu B/msg  DOM reader %7.0f ns/result  ResultFromJson %7.0f ns/result  %.2fx faster\n",
                set.name, bytes / msgs.size(), best_dom, best_sax, best_dom / best_sax);
  }
  return 0;
}
