// What this core can do at most, measured in the same run as the runtimes: its clock (a chain of
// dependent integer adds, one per cycle) and its int8 multiply-accumulate peak (independent
// 512-bit vpdpbusd, 64 MACs each, on AVX-512 VNNI cores). bench_infer_compare turns them into the
// default model's floor: the least time one window can take and the most windows per second.
#ifndef EDGELOOP_BENCH_INFER_COMPARE_MACHINE_PEAK_H_
#define EDGELOOP_BENCH_INFER_COMPARE_MACHINE_PEAK_H_

namespace edgeloop::bench {

struct MachinePeak {
  double core_ghz = 0;        // 0: not measured (not x86-64)
  double int8_macs_per_ns = 0;  // 0: no AVX-512 VNNI
};

// Takes about half a second.
MachinePeak MeasureMachinePeak();

}  // namespace edgeloop::bench

#endif  // EDGELOOP_BENCH_INFER_COMPARE_MACHINE_PEAK_H_
