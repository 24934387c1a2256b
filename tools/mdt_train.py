# mdt_train.py: a short, seeded, numpy-only training of the mdt Conv1D net (forward, backward,
# Adam), used by make_models.py so that the canonical mdt model separates track segments from noise.
"""Trains mdt's three Conv1D layers to mark, per channel, whether a hit belongs to a track segment.

Plain float64 numpy: conv as shifted views (im2col), ReLU between layers, sigmoid + binary
cross-entropy at the end, full-batch Adam. Deterministic for a given seed on a given machine.
"""
import numpy as np


def _cols(x, k, pb, pe):
    """[n, c, w] -> [n, c, k, w]: the k shifted windows of the zero-padded input."""
    w = x.shape[2]
    xp = np.pad(x, ((0, 0), (0, 0), (pb, pe)))
    return np.stack([xp[:, :, j:j + w] for j in range(k)], axis=2)


def forward(params, layers, x):
    """Returns the last layer's pre-sigmoid values and the per-layer cache for backward."""
    cache, h = [], x
    for i, (_, _, k, pb, pe) in enumerate(layers):
        cols = _cols(h, k, pb, pe)
        z = np.einsum("ock,nckw->now", params[2 * i], cols) + params[2 * i + 1][None, :, None]
        cache.append((h.shape, cols, z))
        h = np.maximum(z, 0.0) if i < len(layers) - 1 else z
    return h, cache


def backward(params, layers, cache, dz):
    """Gradients of the loss for [w1, b1, w2, b2, ...] given d loss / d (last pre-sigmoid)."""
    grads = [None] * len(params)
    for i in reversed(range(len(layers))):
        _, _, k, pb, pe = layers[i]
        shape, cols, z = cache[i]
        if i < len(layers) - 1:
            dz = dz * (z > 0)
        grads[2 * i] = np.einsum("now,nckw->ock", dz, cols)
        grads[2 * i + 1] = dz.sum(axis=(0, 2))
        dcols = np.einsum("ock,now->nckw", params[2 * i], dz)
        dh = np.zeros((shape[0], shape[1], shape[2] + pb + pe))
        for j in range(k):
            dh[:, :, j:j + shape[2]] += dcols[:, :, j, :]
        dz = dh[:, :, pb:pb + shape[2]]
    return grads


def train(params, layers, x, target, steps, lr=0.01):
    """Full-batch Adam on binary cross-entropy; params (float64 arrays) are updated in place.
    Returns the final loss."""
    m = [np.zeros_like(p) for p in params]
    v = [np.zeros_like(p) for p in params]
    loss = 0.0
    for step in range(1, steps + 1):
        z, cache = forward(params, layers, x)
        y = 1.0 / (1.0 + np.exp(-z))
        loss = -np.mean(target * np.log(y + 1e-12) + (1 - target) * np.log(1 - y + 1e-12))
        grads = backward(params, layers, cache, (y - target) / y.size)
        for p, g, mi, vi in zip(params, grads, m, v):
            mi *= 0.9
            mi += 0.1 * g
            vi *= 0.999
            vi += 0.001 * g * g
            p -= lr * (mi / (1 - 0.9**step)) / (np.sqrt(vi / (1 - 0.999**step)) + 1e-8)
    return float(loss)
