"""PyTorch INT8 peer of bench/infer_compare: the default model with the weights the C++ program
wrote (JSON), as quantized modules on the qnnpack engine, scripted and frozen with TorchScript,
one thread. Prints "median_us=<x> windows_per_s=<y>" or "error=<why>".

usage: /usr/bin/python3 torch_peer.py weights.json RUNS BATCH
"""
import json
import sys
import time

try:
    import torch
    try:
        import torch.ao.nn.intrinsic.quantized as nniq
        import torch.ao.nn.quantized as nnq
    except ImportError:  # torch < 2.0 (Debian 12's 1.13)
        import torch.nn.intrinsic.quantized as nniq
        import torch.nn.quantized as nnq
except Exception as e:  # noqa: BLE001 - any import failure means the peer cannot run
    print(f"error=cannot import torch: {e}")
    sys.exit(0)


def conv(layer, relu):
    in_ch, out_ch, k = layer["in"], layer["out"], layer["k"]
    cls = nniq.ConvReLU1d if relu else nnq.Conv1d
    mod = cls(in_ch, out_ch, k, padding=1)
    # TFLite OHWI [out][1][k][in] -> PyTorch [out][in][k]
    w = torch.tensor(layer["weights"], dtype=torch.float32).reshape(out_ch, k, in_ch).permute(0, 2, 1).contiguous()
    scales = torch.tensor(layer["weight_scales"], dtype=torch.double)
    qw = torch.quantize_per_channel(w * scales.float().reshape(-1, 1, 1), scales, torch.zeros(out_ch, dtype=torch.long), 0, torch.qint8)
    mod.set_weight_bias(qw, None)
    mod.scale = layer["out_scale"]
    mod.zero_point = layer["out_zero_point"] + 128  # qnnpack activations are quint8
    return mod


def linear(layer, relu):
    cls = nniq.LinearReLU if relu else nnq.Linear
    mod = cls(layer["in"], layer["out"])
    w = torch.tensor(layer["weights"], dtype=torch.float32).reshape(layer["out"], layer["in"])
    qw = torch.quantize_per_tensor(w * layer["weight_scales"][0], layer["weight_scales"][0], 0, torch.qint8)
    mod.set_weight_bias(qw, None)
    mod.scale = layer["out_scale"]
    mod.zero_point = layer["out_zero_point"] + 128
    return mod


class Model(torch.nn.Module):
    def __init__(self, m):
        super().__init__()
        self.c1 = conv(m["conv1"], True)
        self.c2 = conv(m["conv2"], True)
        self.d1 = linear(m["dense1"], True)
        self.d2 = linear(m["dense2"], False)
        self.pool = torch.nn.MaxPool1d(2)

    def forward(self, x):
        x = self.pool(self.c1(x))
        x = self.pool(self.c2(x))
        x = self.d2(self.d1(x.reshape(x.shape[0], 1024)))
        return torch.softmax(x.dequantize(), dim=1)


def median_us(fn, runs):
    for _ in range(min(runs, 2000)):
        fn()
    times = []
    clock = time.perf_counter_ns
    for _ in range(runs):
        t0 = clock()
        fn()
        times.append(clock() - t0)
    times.sort()
    return times[len(times) // 2] / 1000.0


def main():
    path, runs, batch = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    with open(path) as f:
        m = json.load(f)
    torch.set_num_threads(1)
    if "qnnpack" not in torch.backends.quantized.supported_engines:
        print("error=this torch has no qnnpack engine")
        return
    torch.backends.quantized.engine = "qnnpack"
    model = torch.jit.freeze(torch.jit.script(Model(m).eval()))
    window = torch.tensor(m["window_values"], dtype=torch.float32) - m["in_zero_point"]
    x1 = torch.quantize_per_tensor(window.reshape(1, 1, -1) * m["in_scale"], m["in_scale"], m["in_zero_point"] + 128, torch.quint8)
    xb = torch.quantize_per_tensor(window.repeat(batch, 1).reshape(batch, 1, -1) * m["in_scale"], m["in_scale"],
                                   m["in_zero_point"] + 128, torch.quint8)
    with torch.no_grad():
        one = median_us(lambda: model(x1), runs)
        many = median_us(lambda: model(xb), max(200, runs // batch))
    print(f"median_us={one:.3f} windows_per_s={batch / (many * 1e-6):.0f}")


if __name__ == "__main__":
    main()
