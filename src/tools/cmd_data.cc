// edgeloop data generate: seeded synthetic vibration windows as CSV (logic in src/data).
#include <cstdio>

#include "edgeloop/data/csv.h"
#include "edgeloop/data/generate.h"
#include "tools/command.h"

namespace edgeloop::tools {
namespace {

Result<std::vector<double>> ParseMix(const std::string& text) {
  std::vector<double> mix;
  size_t start = 0;
  while (start <= text.size()) {
    size_t comma = text.find(',', start);
    std::string item = text.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
    char* end = nullptr;
    double v = std::strtod(item.c_str(), &end);
    if (item.empty() || *end != '\0') return Status::InvalidArgument("--mix: '" + item + "' is not a number");
    mix.push_back(v);
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return mix;
}

int DataGenerate(int argc, char** argv) {
  std::string kind = "gaussian", output, drift = "none", faults = "imbalance,misalignment,looseness", mix = "0.7,0.2,0.1";
  std::string layout = "wide";
  int64_t samples = 10000, seed = 0, channels = 1, length = 128;
  double sample_rate = 1000, severity = 1.0;
  Flags flags("edgeloop data generate --kind gaussian|waveform --samples N --seed S -o data.csv [options]",
              "Writes seeded synthetic vibration windows labelled normal/warning/failure as CSV.\n"
              "gaussian is the reference tutorial's generator (128 i.i.d. readings per window, separable\n"
              "by the mean); waveform simulates an accelerometer on a rotating machine (shaft harmonics,\n"
              "noise, and imbalance/misalignment/looseness/bearing faults), rescaled so that no class can\n"
              "be told by a window's mean or standard deviation. The same seed gives the same file.");
  flags.String("--kind", &kind, "gaussian or waveform");
  flags.Int("--samples", &samples, "number of windows");
  flags.Int("--seed", &seed, "random seed");
  flags.String("--output", &output, "output CSV path (required)", "-o");
  flags.String("--layout", &layout, "wide (label,f0..fN-1) or features (the tutorial's features,label JSON list)");
  flags.String("--mix", &mix, "class mix normal,warning,failure");
  flags.Int("--length", &length, "readings per channel in a window");
  flags.Int("--channels", &channels, "waveform: 1 (radial) or 3 (x, y radial, z axial; interleaved)");
  flags.Double("--sample-rate", &sample_rate, "waveform: sample rate in Hz");
  flags.Double("--severity", &severity, "waveform: fault amplitude scale (<1 subtler, >1 plainer)");
  flags.String("--faults", &faults, "waveform: fault modes behind warning/failure (imbalance,misalignment,looseness,bearing or all)");
  flags.String("--drift", &drift,
               "waveform: none, or a list of speed[=a],noise[=a],gain[=a],new-fault[=share] (field data that "
               "differs from the base data; new-fault adds a fault mode missing from --faults)");
  int code = 0;
  if (!ParseFlags(flags, argc, argv, &code)) return code;
  if (Status s = flags.ExpectPositional(0, 0, "arguments"); !s.ok()) return UsageError(argv[0], s);
  if (output.empty()) return UsageError(argv[0], Status::InvalidArgument("-o/--output is required"));
  if (samples <= 0) return UsageError(argv[0], Status::InvalidArgument("--samples must be > 0"));
  if (length <= 0 || length > (1 << 20)) return UsageError(argv[0], Status::InvalidArgument("--length must be in [1, 1048576]"));
  data::CsvLayout csv_layout;
  if (layout == "wide") {
    csv_layout = data::CsvLayout::kWide;
  } else if (layout == "features") {
    csv_layout = data::CsvLayout::kFeatures;
  } else {
    return UsageError(argv[0], Status::InvalidArgument("--layout must be wide or features"));
  }
  auto class_mix = ParseMix(mix);
  if (!class_mix.ok()) return UsageError(argv[0], class_mix.status());

  Result<data::Dataset> d = Status::InvalidArgument("");
  if (kind == "gaussian") {
    for (const char* f : {"--channels", "--sample-rate", "--severity", "--faults", "--drift"}) {
      if (flags.WasSet(f)) return UsageError(argv[0], Status::InvalidArgument(std::string(f) + " applies to --kind waveform only"));
    }
    data::GaussianOptions o;
    o.samples = static_cast<size_t>(samples);
    o.seed = static_cast<uint64_t>(seed);
    o.length = static_cast<int>(length);
    o.class_mix = *class_mix;
    d = data::GenerateGaussian(o);
  } else if (kind == "waveform") {
    data::WaveformOptions o;
    o.samples = static_cast<size_t>(samples);
    o.seed = static_cast<uint64_t>(seed);
    o.length = static_cast<int>(length);
    o.channels = static_cast<int>(channels);
    o.sample_rate = sample_rate;
    o.severity = severity;
    o.class_mix = *class_mix;
    auto modes = data::ParseFaultModes(faults);
    if (!modes.ok()) return UsageError(argv[0], modes.status());
    o.faults = *modes;
    auto dr = data::ParseDrift(drift);
    if (!dr.ok()) return UsageError(argv[0], dr.status());
    o.drift = *dr;
    d = data::GenerateWaveform(o);
  } else {
    return UsageError(argv[0], Status::InvalidArgument("--kind must be gaussian or waveform, not '" + kind + "'"));
  }
  if (!d.ok()) return UsageError(argv[0], d.status());
  if (Status s = data::WriteCsvFile(*d, output, csv_layout); !s.ok()) return Fail(argv[0], s);
  std::vector<int64_t> counts = data::ClassCounts(*d);
  std::string per_class;
  for (size_t i = 0; i < counts.size(); ++i) {
    per_class += (i ? ", " : "") + std::to_string(counts[i]) + " " + d->labels[i];
  }
  std::fprintf(stderr, "wrote %zu windows of %d x %d (%s) to %s\n", d->size(), d->length, d->channels,
               per_class.c_str(), output.c_str());
  return 0;
}

EL_COMMAND("data generate", "synthetic vibration windows (gaussian or waveform) as CSV", DataGenerate);

}  // namespace
}  // namespace edgeloop::tools
