// The physically motivated vibration generator (see edgeloop/data/generate.h).
//
// Each axis is a sum of shaft-order sinusoids (order 0.5, 1, 2, ..., amplitude, phase), plus
// bearing bursts, one-sided truncation (looseness), a line-frequency component and white sensor
// noise; then the window is rescaled to a random RMS and offset (class-independent).
#include <algorithm>
#include <bit>
#include <cmath>
#include <numbers>

#include "data/class_mix.h"
#include "edgeloop/common/random.h"
#include "edgeloop/data/generate.h"

namespace edgeloop::data {
namespace {

constexpr double kTwoPi = 2.0 * std::numbers::pi;
constexpr int kMaxAxes = 3;

struct Tone {
  double order;  // multiple of the shaft speed
  double amplitude;
  double phase;
};

struct Axis {
  std::vector<Tone> tones;
  double line_amplitude = 0, line_phase = 0;
  double noise = 0;
  double clip = 0;  // > 0: positive peaks truncated at clip * (peak of the clean signal)
  double burst_gain = 0;  // bearing bursts scaled per axis
};

// Adds `amplitude` to the tone of `order` (same phase when it exists).
void AddTone(Axis* axis, double order, double amplitude, double phase) {
  for (Tone& t : axis->tones) {
    if (t.order == order) {
      t.amplitude += amplitude;
      return;
    }
  }
  axis->tones.push_back({order, amplitude, phase});
}

struct Bursts {
  bool on = false;
  double rate_hz = 0;      // impacts per second (BPFO or BPFI)
  double start = 0;        // time of the first impact (may be before the window)
  double resonance_hz = 0;
  double decay_s = 0;
  double amplitude = 0;
  bool modulated = false;  // inner race: amplitude follows the shaft's rotation
  double mod_phase = 0;
};

uint32_t PickMode(uint32_t modes, Rng& rng) {
  int count = std::popcount(modes);
  int pick = static_cast<int>(rng.Below(static_cast<uint64_t>(count)));
  for (uint32_t bit = 1; bit <= kBearing; bit <<= 1) {
    if ((modes & bit) && pick-- == 0) return bit;
  }
  return kImbalance;
}

}  // namespace

Result<Dataset> GenerateWaveform(const WaveformOptions& o) {
  if (o.samples == 0) return Status::InvalidArgument("samples must be > 0");
  if (o.length <= 0 || o.length > (1 << 20)) return Status::InvalidArgument("length must be in [1, 1048576]");
  if (o.channels != 1 && o.channels != 3) return Status::InvalidArgument("channels must be 1 or 3");
  if (!(o.sample_rate > 0) || !std::isfinite(o.sample_rate)) return Status::InvalidArgument("sample rate must be > 0");
  if (!(o.severity > 0) || o.severity > 10) return Status::InvalidArgument("severity must be in (0, 10]");
  if (!(o.speed_min_hz > 0) || !(o.speed_max_hz >= o.speed_min_hz)) {
    return Status::InvalidArgument("shaft speed range must satisfy 0 < min <= max");
  }
  const double speed_scale = 1.0 + o.drift.speed;
  if (o.speed_max_hz * speed_scale * 3 >= o.sample_rate / 2) {
    return Status::InvalidArgument("sample rate " + std::to_string(o.sample_rate) +
                                   " Hz is too low: the 3rd harmonic of the fastest shaft speed (" +
                                   std::to_string(o.speed_max_hz * speed_scale) + " Hz) must be below Nyquist");
  }
  if ((o.faults & kAllFaults) == 0) return Status::InvalidArgument("faults: no fault mode enabled");
  const uint32_t new_modes = kAllFaults & ~o.faults;
  if (o.drift.new_fault > 0 && new_modes == 0) {
    return Status::InvalidArgument("drift new-fault: every fault mode is already in faults; leave one out "
                                   "(the default leaves out bearing)");
  }
  EL_RETURN_IF_ERROR(CheckClassMix(o.class_mix));

  Dataset d;
  d.length = o.length;
  d.channels = o.channels;
  d.labels = {"normal", "warning", "failure"};
  const size_t n = static_cast<size_t>(o.length);
  const size_t ch = static_cast<size_t>(o.channels);
  d.x.reserve(o.samples * n * ch);
  d.y.reserve(o.samples);
  const double fs = o.sample_rate;
  const double nyquist = fs / 2;
  // Radial x, radial y, axial z: how strongly each axis sees the shaft and each fault.
  static constexpr double kBaseGain[kMaxAxes] = {1.0, 0.85, 0.35};
  Rng rng(o.seed);
  std::vector<double> sig(n * ch);
  std::vector<float> window(n * ch);

  for (size_t w = 0; w < o.samples; ++w) {
    const int label = static_cast<int>(rng.Choice(std::span<const double>(o.class_mix)));
    const double fr = rng.Uniform(o.speed_min_hz, o.speed_max_hz) * speed_scale;
    Axis axes[kMaxAxes];
    const double phase1 = rng.Uniform(0, kTwoPi);
    const double a1 = rng.Uniform(0.9, 1.1);
    const double noise = rng.Uniform(0.12, 0.18) * (1.0 + o.drift.noise);
    for (int a = 0; a < kMaxAxes; ++a) {
      Axis& ax = axes[a];
      const double g = kBaseGain[a];
      // x and y see the rotating 1x in quadrature; the axial axis has its own phase.
      double p1 = a == 0 ? phase1 : a == 1 ? phase1 + std::numbers::pi / 2 + rng.Uniform(-0.2, 0.2)
                                           : rng.Uniform(0, kTwoPi);
      ax.tones.push_back({1, a1 * g, p1});
      ax.tones.push_back({2, a1 * g * rng.Uniform(0.1, 0.25), rng.Uniform(0, kTwoPi)});
      ax.tones.push_back({3, a1 * g * rng.Uniform(0.03, 0.08), rng.Uniform(0, kTwoPi)});
      ax.line_amplitude = rng.Uniform(0, 0.12);
      ax.line_phase = rng.Uniform(0, kTwoPi);
      ax.noise = noise * (a == 2 ? 0.8 : 1.0);
    }
    Bursts bursts;
    if (label != 0) {
      uint32_t mode = (o.drift.new_fault > 0 && rng.Uniform() < o.drift.new_fault) ? PickMode(new_modes, rng)
                                                                                     : PickMode(o.faults, rng);
      // Warning faults are plainly present but mild; failures 3x stronger (ISO 10816-style zones).
      const double s = (label == 1 ? rng.Uniform(0.9, 1.5) : rng.Uniform(2.7, 4.5)) * o.severity;
      switch (mode) {
        case kImbalance:
          // A heavy spot: more 1x, radially (x, y in quadrature), little axially.
          for (int a = 0; a < kMaxAxes; ++a) AddTone(&axes[a], 1, 2.5 * s * a1 * (a == 2 ? 0.06 : kBaseGain[a]), 0);
          break;
        case kMisalignment:
          for (int a = 0; a < 2; ++a) {
            AddTone(&axes[a], 2, 1.2 * s * kBaseGain[a], rng.Uniform(0, kTwoPi));
            AddTone(&axes[a], 3, 0.6 * s * kBaseGain[a], rng.Uniform(0, kTwoPi));
          }
          AddTone(&axes[2], 1, 1.0 * s, 0);
          AddTone(&axes[2], 2, 1.0 * s, rng.Uniform(0, kTwoPi));
          break;
        case kLooseness: {
          static constexpr double kAxis[kMaxAxes] = {0.7, 1.0, 0.3};
          for (int a = 0; a < kMaxAxes; ++a) {
            for (int h = 1; h <= 10; ++h) {
              AddTone(&axes[a], h, 0.6 * s * kAxis[a] / std::sqrt(static_cast<double>(h)), rng.Uniform(0, kTwoPi));
            }
            for (double sub : {0.5, 1.5, 2.5}) AddTone(&axes[a], sub, 0.4 * s * kAxis[a], rng.Uniform(0, kTwoPi));
          }
          // Rattling against a stop: the vertical axis (and x when it is the only one) is truncated.
          const double clip = 1.0 - 0.15 * std::min(s, 2.5);
          axes[1].clip = clip;
          if (o.channels == 1) axes[0].clip = clip;
          break;
        }
        case kBearing: {
          bursts.on = true;
          bursts.modulated = rng.Uniform() < 0.5;  // inner race; else outer race
          bursts.rate_hz = fr * (bursts.modulated ? rng.Uniform(4.7, 5.4) : rng.Uniform(3.0, 3.6));
          bursts.start = -rng.Uniform(0, 1.0 / bursts.rate_hz);
          bursts.resonance_hz = rng.Uniform(0.25, 0.42) * fs;
          bursts.decay_s = rng.Uniform(0.5, 1.0) / bursts.resonance_hz;  // rings for a cycle or two
          bursts.amplitude = 1.8 * s;
          bursts.mod_phase = rng.Uniform(0, kTwoPi);
          static constexpr double kAxis[kMaxAxes] = {1.0, 0.8, 0.3};
          for (int a = 0; a < kMaxAxes; ++a) axes[a].burst_gain = kAxis[a];
          break;
        }
        default:
          break;
      }
    }
    const double line_hz = 100.0 * rng.Uniform(0.99, 1.01);  // twice a 50 Hz mains
    // Impact times with a little slip (the rolling elements do not roll perfectly).
    std::vector<double> impacts;
    if (bursts.on) {
      const double period = 1.0 / bursts.rate_hz;
      const double end = static_cast<double>(n) / fs;
      for (double t = bursts.start; t < end; t += period * (1.0 + rng.Uniform(-0.02, 0.02))) impacts.push_back(t);
    }

    for (size_t a = 0; a < ch; ++a) {
      const Axis& ax = axes[a];
      double peak = 0;
      for (size_t i = 0; i < n; ++i) {
        const double t = static_cast<double>(i) / fs;
        double v = 0;
        for (const Tone& tone : ax.tones) {
          if (tone.order * fr >= nyquist) continue;  // no aliased components
          v += tone.amplitude * std::sin(kTwoPi * tone.order * fr * t + tone.phase);
        }
        if (line_hz < nyquist) v += ax.line_amplitude * std::sin(kTwoPi * line_hz * t + ax.line_phase);
        if (bursts.on && ax.burst_gain > 0) {
          double am = bursts.modulated ? 0.6 + 0.4 * std::cos(kTwoPi * fr * t + bursts.mod_phase) : 1.0;
          for (double tk : impacts) {
            double dt = t - tk;
            if (dt < 0 || dt > 8 * bursts.decay_s) continue;
            v += ax.burst_gain * bursts.amplitude * am * std::exp(-dt / bursts.decay_s) *
                 std::sin(kTwoPi * bursts.resonance_hz * dt);
          }
        }
        sig[i * ch + a] = v;
        peak = std::max(peak, v);
      }
      if (ax.clip > 0) {
        const double limit = ax.clip * peak;
        for (size_t i = 0; i < n; ++i) sig[i * ch + a] = std::min(sig[i * ch + a], limit);
      }
      for (size_t i = 0; i < n; ++i) sig[i * ch + a] += rng.Normal(0, ax.noise);
    }

    // Class-independent scale and offset: the same RMS and DC distributions for every class.
    double sum_sq = 0;
    double mean[kMaxAxes] = {0, 0, 0};
    for (size_t a = 0; a < ch; ++a) {
      for (size_t i = 0; i < n; ++i) mean[a] += sig[i * ch + a];
      mean[a] /= static_cast<double>(n);
      for (size_t i = 0; i < n; ++i) sum_sq += (sig[i * ch + a] - mean[a]) * (sig[i * ch + a] - mean[a]);
    }
    const double rms = std::sqrt(sum_sq / static_cast<double>(n * ch));
    const double gain = std::exp(rng.Uniform(std::log(0.5), std::log(2.0))) * (1.0 + o.drift.gain);
    const double scale = rms > 0 ? gain / rms : 0;
    for (size_t a = 0; a < ch; ++a) {
      const double offset = rng.Uniform(-0.5, 0.5) + 0.5 * o.drift.gain;
      for (size_t i = 0; i < n; ++i) {
        window[i * ch + a] = static_cast<float>((sig[i * ch + a] - mean[a]) * scale + offset);
      }
    }
    d.Add(window, label);
  }
  return d;
}

}  // namespace edgeloop::data
