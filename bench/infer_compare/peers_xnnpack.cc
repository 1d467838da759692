#include "bench/infer_compare/peers.h"

#include <xnnpack.h>

#include <algorithm>
#include <cmath>

namespace edgeloop::bench {
namespace {

struct XnnOps {
  xnn_operator_t conv1 = nullptr, pool1 = nullptr, conv2 = nullptr, pool2 = nullptr, fc1 = nullptr, fc2 = nullptr;
  ~XnnOps() {
    for (xnn_operator_t op : {conv1, pool1, conv2, pool2, fc1, fc2}) {
      if (op != nullptr) xnn_delete_operator(op);
    }
  }
};

int8_t Clamp8(int v) { return static_cast<int8_t>(std::clamp(v, -128, 127)); }

}  // namespace

// XNNPACK's operator API: per-channel (qc8) convolutions, s8 max pooling, qs8 fully connected.
// This XNNPACK (Debian, 2022) has no signed-int8 softmax; the 3-way softmax on the logits is left
// out of its time (it is a few nanoseconds in every runtime).
PeerResult RunXnnpack(const DefaultModel& m, const std::vector<int8_t>& window, int runs, int batch) {
  PeerResult r;
  r.name = "XNNPACK (operator API, qc8/qs8)";
  if (xnn_initialize(nullptr) != xnn_status_success) {
    r.error = "xnn_initialize failed (CPU not supported?)";
    return r;
  }
  XnnOps ops;
  const auto conv = [&](const QuantLayer& l, float in_scale, int32_t in_zp, xnn_operator_t* op) {
    return xnn_create_convolution2d_nhwc_qc8(0, 1, 0, 1, 1, 3, 1, 1, 1, 1, 1, l.in, l.out, l.in, l.out,
                                             static_cast<int8_t>(in_zp), in_scale, l.weight_scales.data(),
                                             l.weights.data(), l.bias.data(), static_cast<int8_t>(l.out_zero_point),
                                             l.out_scale, Clamp8(l.out_zero_point), 127, 0, op);
  };
  const auto pool = [&](const QuantLayer& l, xnn_operator_t* op) {
    return xnn_create_max_pooling2d_nhwc_s8(0, 0, 0, 0, 1, 2, 1, 2, 1, 1, l.out, l.out, l.out, -128, 127, 0, op);
  };
  const auto fc = [&](const QuantLayer& l, float in_scale, int32_t in_zp, xnn_operator_t* op) {
    return xnn_create_fully_connected_nc_qs8(l.in, l.out, l.in, l.out, static_cast<int8_t>(in_zp), in_scale,
                                             l.weight_scales[0], l.weights.data(), l.bias.data(),
                                             static_cast<int8_t>(l.out_zero_point), l.out_scale,
                                             l.relu ? Clamp8(l.out_zero_point) : -128, 127, 0, op);
  };
  if (conv(m.conv1, m.in_scale, m.in_zero_point, &ops.conv1) != xnn_status_success ||
      pool(m.conv1, &ops.pool1) != xnn_status_success ||
      conv(m.conv2, m.conv1.out_scale, m.conv1.out_zero_point, &ops.conv2) != xnn_status_success ||
      pool(m.conv2, &ops.pool2) != xnn_status_success ||
      fc(m.dense1, m.conv2.out_scale, m.conv2.out_zero_point, &ops.fc1) != xnn_status_success ||
      fc(m.dense2, m.dense1.out_scale, m.dense1.out_zero_point, &ops.fc2) != xnn_status_success) {
    r.error = "creating the qc8/qs8 operators failed";
    return r;
  }
  const auto setup = [&](int n, const int8_t* in, std::vector<int8_t>& a, std::vector<int8_t>& b,
                         std::vector<int8_t>& c, std::vector<int8_t>& d, std::vector<int8_t>& e,
                         std::vector<int8_t>& f) {
    a.resize(n * 128 * 16), b.resize(n * 64 * 16), c.resize(n * 64 * 32), d.resize(n * 32 * 32), e.resize(n * 64),
        f.resize(n * 3);
    return xnn_setup_convolution2d_nhwc_qc8(ops.conv1, n, 1, 128, in, a.data(), nullptr) == xnn_status_success &&
           xnn_setup_max_pooling2d_nhwc_s8(ops.pool1, n, 1, 128, a.data(), b.data(), nullptr) == xnn_status_success &&
           xnn_setup_convolution2d_nhwc_qc8(ops.conv2, n, 1, 64, b.data(), c.data(), nullptr) == xnn_status_success &&
           xnn_setup_max_pooling2d_nhwc_s8(ops.pool2, n, 1, 64, c.data(), d.data(), nullptr) == xnn_status_success &&
           xnn_setup_fully_connected_nc_qs8(ops.fc1, n, d.data(), e.data(), nullptr) == xnn_status_success &&
           xnn_setup_fully_connected_nc_qs8(ops.fc2, n, e.data(), f.data(), nullptr) == xnn_status_success;
  };
  const auto run = [&] {
    for (xnn_operator_t op : {ops.conv1, ops.pool1, ops.conv2, ops.pool2, ops.fc1, ops.fc2}) xnn_run_operator(op, nullptr);
  };
  std::vector<int8_t> a, b, c, d, e, f;
  if (!setup(1, window.data(), a, b, c, d, e, f)) {
    r.error = "xnn_setup_* failed";
    return r;
  }
  r.median_us = MedianMicros(run, runs);
  r.logits.assign(f.begin(), f.end());
  std::vector<int8_t> windows(static_cast<size_t>(batch) * 128);
  for (size_t i = 0; i < windows.size(); ++i) windows[i] = window[i % 128];
  if (!setup(batch, windows.data(), a, b, c, d, e, f)) {
    r.error = "xnn_setup_* failed for a batch";
    return r;
  }
  r.windows_per_s = batch / (MedianMicros(run, std::max(200, runs / batch)) * 1e-6);
  return r;
}

}  // namespace edgeloop::bench
