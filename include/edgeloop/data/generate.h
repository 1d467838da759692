// Seeded synthetic vibration data (labels normal, warning, failure), reproducible across machines
// (edgeloop's own Rng; see edgeloop/common/random.h for what "identical" covers).
//
//   gaussian  exactly the reference tutorial's generator: each window is 128 i.i.d. readings,
//             normal N(0.5, 0.1) p=0.7, warning N(1.2, 0.3) p=0.2, failure N(2.5, 0.8) p=0.1.
//             Trivially separable by a window's mean; kept for parity with the tutorial.
//   waveform  physically motivated accelerometer windows: a shaft turning at a random speed
//             (1x with 2x/3x harmonics, a non-synchronous line-frequency component, sensor noise),
//             and for warning/failure one fault of growing severity:
//               imbalance     1x grows (radial, x and y in quadrature)
//               misalignment  2x and 3x grow radially, 1x and 2x axially (z)
//               looseness     many harmonics and half-order sub-harmonics, one-sided truncation
//               bearing       decaying resonance bursts at an outer-race (BPFO ~3.0-3.6x) or
//                             inner-race (BPFI ~4.7-5.4x, amplitude-modulated at 1x) rate
//             Every window is then rescaled to a random RMS and given a random DC offset drawn
//             from the same distributions for every class, so no class can be told from a
//             window's mean or standard deviation: a classifier has to look at its shape.
//             `drift` changes the machine or the sensor (speed, noise, gain) and/or makes a
//             fault mode the base data lacks appear (bearing wear, by default absent).
// Thread-safety: free functions.
#ifndef EDGELOOP_DATA_GENERATE_H_
#define EDGELOOP_DATA_GENERATE_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "edgeloop/common/status.h"
#include "edgeloop/data/dataset.h"

namespace edgeloop::data {

struct GaussianOptions {
  size_t samples = 10000;
  uint64_t seed = 0;
  int length = 128;
  std::vector<double> class_mix = {0.7, 0.2, 0.1};  // normal, warning, failure
};
// Errors: InvalidArgument for samples == 0, length <= 0 or a bad class mix.
Result<Dataset> GenerateGaussian(const GaussianOptions& options);

// Fault modes, as bits.
enum FaultMode : uint32_t {
  kImbalance = 1u << 0,
  kMisalignment = 1u << 1,
  kLooseness = 1u << 2,
  kBearing = 1u << 3,
};
inline constexpr uint32_t kAllFaults = kImbalance | kMisalignment | kLooseness | kBearing;
inline constexpr uint32_t kBaseFaults = kImbalance | kMisalignment | kLooseness;
// "imbalance,misalignment,looseness,bearing" or "all". Errors name the unknown mode.
Result<uint32_t> ParseFaultModes(std::string_view list);
std::string FaultModesToString(uint32_t modes);

// How field data differs from the base data. All zero = no drift.
struct Drift {
  double speed = 0;      // shaft speed range scaled by (1 + speed)
  double noise = 0;      // sensor noise scaled by (1 + noise)
  double gain = 0;       // sensor gain scaled by (1 + gain) and DC offset shifted by 0.5 * gain
  double new_fault = 0;  // share (0..1) of warning/failure windows that show a fault mode outside
                         // `faults` (bearing with the default modes)
  bool any() const { return speed != 0 || noise != 0 || gain != 0 || new_fault != 0; }
};
// "none", or a comma list of speed[=a], noise[=a], gain[=a], new-fault[=share]; a bare name means
// 0.3 for speed/noise/gain and 0.5 for new-fault. Errors name the bad item.
Result<Drift> ParseDrift(std::string_view spec);
std::string DriftToString(const Drift& d);

struct WaveformOptions {
  size_t samples = 10000;
  uint64_t seed = 0;
  int length = 128;            // readings per channel
  int channels = 1;            // 1 (radial x) or 3 (x, y radial; z axial)
  double sample_rate = 1000;   // Hz
  double speed_min_hz = 15;    // shaft speed range (900-2700 rpm by default)
  double speed_max_hz = 45;
  double severity = 1.0;       // scales fault amplitudes; < 1 subtler, > 1 plainer
  std::vector<double> class_mix = {0.7, 0.2, 0.1};  // normal, warning, failure
  uint32_t faults = kBaseFaults;  // modes that produce warning/failure windows
  Drift drift;
};
// Errors: InvalidArgument for out-of-range options (naming the option), e.g. a shaft speed whose
// 5th harmonic is above the Nyquist frequency.
Result<Dataset> GenerateWaveform(const WaveformOptions& options);

}  // namespace edgeloop::data

#endif  // EDGELOOP_DATA_GENERATE_H_
