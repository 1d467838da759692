#!/usr/bin/python3
"""PyTorch side of bench/train_compare: the reference model of the tutorial trained on the same
CSV files edgeloop trains on, with the same batch size, epochs, optimizer (Keras-default Adam),
initialisation (Glorot uniform, zero bias), per-channel normalisation fitted on the training file,
and thread count. Prints one JSON line: seconds per epoch (median and each), validation accuracy.

Run with Debian's interpreter (/usr/bin/python3), which has python3-torch and python3-numpy.
"""
import argparse
import json
import time

import numpy as np
import torch
import torch.nn as nn


def read_wide_csv(path, channels):
    with open(path) as f:
        header = f.readline().strip().split(",")
        label_col = header.index("label")
        labels, rows = [], []
        for line in f:
            cells = line.rstrip("\n").split(",")
            labels.append(cells[label_col])
            rows.append([float(c) for i, c in enumerate(cells) if i != label_col])
    x = np.asarray(rows, dtype=np.float32)
    n, w = x.shape
    return x.reshape(n, w // channels, channels), labels


def build_model(length, channels, classes):
    model = nn.Sequential(
        nn.Conv1d(channels, 16, 3, padding=1), nn.ReLU(), nn.MaxPool1d(2),
        nn.Conv1d(16, 32, 3, padding=1), nn.ReLU(), nn.MaxPool1d(2),
        nn.Flatten(),
        nn.Linear(32 * (length // 4), 64), nn.ReLU(), nn.Dropout(0.3),
        nn.Linear(64, classes))
    for m in model.modules():
        if isinstance(m, (nn.Conv1d, nn.Linear)):
            nn.init.xavier_uniform_(m.weight)  # Keras glorot_uniform (same fans for conv)
            nn.init.zeros_(m.bias)
    return model


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--train", required=True)
    ap.add_argument("--validation", required=True)
    ap.add_argument("--channels", type=int, default=1)
    ap.add_argument("--epochs", type=int, default=5)
    ap.add_argument("--batch-size", type=int, default=32)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()

    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    xtr, ltr = read_wide_csv(args.train, args.channels)
    xva, lva = read_wide_csv(args.validation, args.channels)
    order = {"normal": 0, "warning": 1, "failure": 2}
    names = sorted(set(ltr), key=lambda s: (order.get(s, 99), s))
    index = {s: i for i, s in enumerate(names)}
    ytr = torch.tensor([index[s] for s in ltr])
    yva = torch.tensor([index[s] for s in lva])
    mean = xtr.mean(axis=(0, 1), keepdims=True)
    std = xtr.std(axis=(0, 1), keepdims=True) + 1e-12
    # PyTorch's Conv1d wants [N, C, L].
    xtr = torch.from_numpy(((xtr - mean) / std).transpose(0, 2, 1).copy())
    xva = torch.from_numpy(((xva - mean) / std).transpose(0, 2, 1).copy())
    length = xtr.shape[2]

    model = build_model(length, args.channels, len(names))
    opt = torch.optim.Adam(model.parameters(), lr=1e-3, betas=(0.9, 0.999), eps=1e-7)
    loss_fn = nn.CrossEntropyLoss()
    seconds, cpu, val_acc = [], [], 0.0
    n = xtr.shape[0]
    for _ in range(args.epochs):
        t0, c0 = time.perf_counter(), time.process_time()
        model.train()
        perm = torch.randperm(n)
        for i in range(0, n, args.batch_size):
            idx = perm[i:i + args.batch_size]
            opt.zero_grad(set_to_none=True)
            loss = loss_fn(model(xtr[idx]), ytr[idx])
            loss.backward()
            opt.step()
        model.eval()
        with torch.no_grad():
            correct = 0
            for i in range(0, xva.shape[0], 256):
                correct += (model(xva[i:i + 256]).argmax(1) == yva[i:i + 256]).sum().item()
        val_acc = correct / xva.shape[0]
        seconds.append(time.perf_counter() - t0)
        cpu.append(time.process_time() - c0)
    print(json.dumps({"framework": "pytorch " + torch.__version__, "threads": args.threads,
                      "seconds_per_epoch": float(np.median(seconds)),
                      "cpu_seconds_per_epoch": float(np.median(cpu)), "epoch_seconds": seconds,
                      "val_accuracy": val_acc}))


if __name__ == "__main__":
    main()
