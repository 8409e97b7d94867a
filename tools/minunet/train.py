"""Train minunet on make_dataset.py's output (JAX on the CPU; its own environment, see README).

    python tools/minunet/train.py --data data.npz --out minunet.npz --minutes 40

Each step draws crops from the training images, turns them by one of the eight right-angle
symmetries, rescales them a little, degrades them (gamma, contrast, blur, noise, dry and wet
blotches) and asks the network for LEADER's minutiae of the clean image. Images whose index
is a multiple of --holdout-every are held out; the script reports the held-out loss, and
`evaluate.py` measures detection against LEADER on them. The weights are saved as a NumPy
archive (one array per layer: w HWIO, b) with the step count, every --save-every steps.
"""

from __future__ import annotations

import argparse
import math
import queue
import threading
import time
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
import optax
from net import DECODER, ENCODER, HEAD, LAYERS, STRIDE
from scipy import ndimage

CROP = 160
REAL_SHARE = 0.4


# ---------------------------------------------------------------- data


def load(path: Path) -> tuple[list[np.ndarray], list[np.ndarray], list[str]]:
    d = np.load(path)  # each d[name] reads (and decompresses) that array again: once here
    pixels, all_labels = d["pixels"], d["labels"]
    images, labels, at, lat = [], [], 0, 0
    for (h, w), n in zip(d["shapes"], d["counts"], strict=True):
        images.append(pixels[at : at + h * w].reshape(h, w))
        labels.append(all_labels[lat : lat + n])
        at, lat = at + h * w, lat + n
    return images, labels, [str(s) for s in d["sources"]]


def background(image: np.ndarray) -> float:
    return float(np.percentile(image, 95))


def dihedral(image, x, y, vx, vy, k: int, flip: bool):
    for _ in range(k):
        w = image.shape[1]
        image = np.rot90(image)
        x, y = y, w - 1 - x
        vx, vy = vy, -vx
    if flip:
        w = image.shape[1]
        image = image[:, ::-1]
        x, vx = w - 1 - x, -vx
    return np.ascontiguousarray(image), x, y, vx, vy


def resize(image: np.ndarray, out: int) -> np.ndarray:
    """Bilinear resize of a square array to out x out (pixel centres aligned)."""
    n = image.shape[0]
    pos = np.clip((np.arange(out) + 0.5) * (n / out) - 0.5, 0, n - 1)
    i0 = np.floor(pos).astype(np.int64)
    i1 = np.minimum(i0 + 1, n - 1)
    f = (pos - i0).astype(np.float32)
    img = image.astype(np.float32)
    rows = img[i0] * (1 - f)[:, None] + img[i1] * f[:, None]
    return rows[:, i0] * (1 - f)[None, :] + rows[:, i1] * f[None, :]


def degrade(crop: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    g = crop.astype(np.float32) / 255.0
    g = np.clip(g, 0, 1) ** rng.uniform(0.6, 1.7)
    if rng.random() < 0.5:  # blotches: dry (lighter ridges) or wet (darker valleys)
        coarse = rng.standard_normal((6, 6)).astype(np.float32)
        field = resize(coarse, g.shape[0])
        field = field / (np.abs(field).max() + 1e-6)
        amount = rng.uniform(0.2, 0.7)
        if rng.random() < 0.5:
            g = g + amount * np.clip(field, 0, None) * (1 - g)
        else:
            g = g - amount * np.clip(field, 0, None) * g
    if rng.random() < 0.5:  # pores and breaks: light specks where the ridges are dark
        specks = (rng.random(g.shape) < rng.uniform(0.002, 0.02)) & (g < np.median(g))
        spread = ndimage.maximum_filter(specks.astype(np.float32), size=int(rng.integers(1, 4)))
        g = np.maximum(g, spread * rng.uniform(0.6, 1.0))
    for _ in range(int(rng.integers(0, 3)) if rng.random() < 0.4 else 0):  # creases, scratches
        angle, offset = rng.uniform(0, np.pi), rng.uniform(-0.5, 0.5) * g.shape[0]
        yy, xx = np.mgrid[: g.shape[0], : g.shape[1]] - g.shape[0] / 2
        distance = np.abs(xx * np.sin(angle) - yy * np.cos(angle) - offset)
        g = np.maximum(g, (distance < rng.uniform(0.7, 2.5)) * rng.uniform(0.6, 1.0))
    lo, hi = rng.uniform(0.0, 0.4), rng.uniform(0.6, 1.0)
    g = lo + (hi - lo) * g
    sigma = rng.uniform(0.0, 1.3)
    if sigma > 0.3:
        g = ndimage.gaussian_filter(g, sigma)
    g = g + rng.uniform(0, 0.06) * rng.standard_normal(g.shape).astype(np.float32)
    if rng.random() < 0.3:  # salt and pepper / dust
        spots = rng.random(g.shape) < rng.uniform(0.001, 0.02)
        g[spots] = rng.random(int(spots.sum()))
    return np.clip(g * 255.0, 0, 255)


def standardise(image: np.ndarray) -> np.ndarray:
    image = image.astype(np.float32)
    return (image - image.mean()) / (image.std() + 1.0)


def sample(images, labels, real, rng, degrade_it=True, fills=None, residues=None):
    pick = rng.choice(real) if (real and rng.random() < REAL_SHARE) else rng.integers(len(images))
    image, lab = images[pick], labels[pick]
    fill = fills[pick] if fills is not None else background(image)
    scale = rng.uniform(0.85, 1.18)
    size = int(round(CROP / scale))
    h, w = image.shape
    if size > h or size > w:
        image = np.pad(image, ((0, max(0, size - h)), (0, max(0, size - w))), constant_values=fill)
        h, w = image.shape
    top, left = int(rng.integers(h - size + 1)), int(rng.integers(w - size + 1))
    crop = image[top : top + size, left : left + size]
    x, y, th = lab[:, 0] - left, lab[:, 1] - top, lab[:, 2]
    vx, vy = np.cos(th), -np.sin(th)
    crop, x, y, vx, vy = dihedral(
        crop, x, y, vx, vy, int(rng.integers(4)), bool(rng.random() < 0.5)
    )
    crop = resize(crop, CROP)
    x, y = (x + 0.5) * (CROP / size) - 0.5, (y + 0.5) * (CROP / size) - 0.5
    if degrade_it and residues is not None and rng.random() < 0.3:  # a faint latent residue
        other = residues[int(rng.integers(len(residues)))]
        top2 = int(rng.integers(other.shape[0] - CROP + 1))
        left2 = int(rng.integers(other.shape[1] - CROP + 1))
        ghost = other[top2 : top2 + CROP, left2 : left2 + CROP].astype(np.float32)
        light = crop > np.percentile(crop, 70)
        crop = np.where(light, crop - rng.uniform(0.1, 0.3) * (255.0 - ghost), crop)
    if degrade_it:
        crop = degrade(crop, rng)
    g = CROP // STRIDE
    target = np.zeros((g, g, 6), np.float32)  # score, dx, dy, cos, sin, type
    inside = (x >= 0) & (y >= 0) & (x < CROP) & (y < CROP)
    q = lab[:, 4]
    for i in np.flatnonzero(inside)[np.argsort(q[inside])]:  # strongest written last
        cx, cy = int(x[i] // STRIDE), int(y[i] // STRIDE)
        norm = math.hypot(vx[i], vy[i])
        target[cy, cx] = (
            q[i],
            x[i] / STRIDE - cx,
            y[i] / STRIDE - cy,
            vx[i] / norm,
            vy[i] / norm,
            1.0 if lab[i, 3] == 0 else 0.0,
        )
    return standardise(crop)[..., None], target


def batch(images, labels, real, rng, n, degrade_it=True, fills=None, residues=None):
    xs, ts = zip(
        *(sample(images, labels, real, rng, degrade_it, fills, residues) for _ in range(n)),
        strict=True,
    )
    return np.stack(xs), np.stack(ts)


# ---------------------------------------------------------------- model


def init(key) -> dict[str, dict[str, jnp.ndarray]]:
    params = {}
    for name, k, cin, cout, _s, _d in LAYERS:
        key, sub = jax.random.split(key)
        std = math.sqrt(2.0 / (k * k * cin))
        params[name] = {"w": std * jax.random.normal(sub, (k, k, cin, cout)), "b": jnp.zeros(cout)}
    params["head"]["w"] = params["head"]["w"] * 0.1
    params["head"]["b"] = params["head"]["b"].at[0].set(-4.0)
    return params


def conv(p, x, k, stride, dilation):
    pad = dilation * (k - 1) // 2
    y = jax.lax.conv_general_dilated(
        x,
        p["w"],
        (stride, stride),
        ((pad, pad), (pad, pad)),
        rhs_dilation=(dilation, dilation),
        dimension_numbers=("NHWC", "HWIO", "NHWC"),
    )
    return y + p["b"]


def forward(params, x):
    skip = None
    for name, k, _ci, _co, s, d in ENCODER:
        x = jax.nn.relu(conv(params[name], x, k, s, d))
        if name == "c2":
            skip = x
    x = jnp.repeat(jnp.repeat(x, 2, axis=1), 2, axis=2)
    x = jnp.concatenate([x, skip], axis=-1)
    for name, k, _ci, _co, s, d in DECODER:
        x = jax.nn.relu(conv(params[name], x, k, s, d))
    name, k, _ci, _co, s, d = HEAD
    return conv(params[name], x, k, s, d)


def loss_fn(params, x, t):
    out = forward(params, x)
    score_t = t[..., 0]
    pos = (score_t >= 0.5).astype(jnp.float32)
    weight = 1.0 + 9.0 * (score_t > 0)
    bce = optax.sigmoid_binary_cross_entropy(out[..., 0], score_t)
    l_score = jnp.sum(weight * bce) / jnp.sum(weight)
    npos = jnp.maximum(jnp.sum(pos), 1.0)
    l_off = jnp.sum(pos[..., None] * jnp.abs(jax.nn.sigmoid(out[..., 1:3]) - t[..., 1:3])) / npos
    v = out[..., 3:5]
    v = v / jnp.sqrt(jnp.sum(v * v, axis=-1, keepdims=True) + 1e-6)
    l_dir = jnp.sum(pos * jnp.sum((v - t[..., 3:5]) ** 2, axis=-1)) / npos
    l_type = jnp.sum(pos * optax.sigmoid_binary_cross_entropy(out[..., 5], t[..., 5])) / npos
    total = 4.0 * l_score + l_off + 0.5 * l_dir + 0.2 * l_type
    return total, (l_score, l_off, l_dir, l_type)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", type=Path, required=True)
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--minutes", type=float, default=40)
    ap.add_argument("--batch", type=int, default=16)
    ap.add_argument("--lr", type=float, default=2e-3)
    ap.add_argument(
        "--steps", type=int, default=6000, help="schedule length (stops early at --minutes)"
    )
    ap.add_argument("--holdout-every", type=int, default=10)
    ap.add_argument("--save-every", type=int, default=200)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--init", type=Path, help="start from these weights (a train.py output)")
    args = ap.parse_args()

    images, labels, sources = load(args.data)
    train = [i for i in range(len(images)) if i % args.holdout_every]
    held = [i for i in range(len(images)) if not i % args.holdout_every]
    ti, tl = [images[i] for i in train], [labels[i] for i in train]
    real = [k for k, i in enumerate(train) if not sources[i].startswith("syn:")]
    fills = [background(im) for im in ti]
    residues = [im for im in ti if min(im.shape) >= CROP][:200]
    rng = np.random.default_rng(args.seed)
    hx, ht = batch(
        [images[i] for i in held], [labels[i] for i in held], [], np.random.default_rng(1), 64
    )

    params = init(jax.random.PRNGKey(args.seed))
    if args.init is not None:
        saved = np.load(args.init)
        params = {k: {a: jnp.asarray(saved[f"{k}.{a}"]) for a in d} for k, d in params.items()}
    schedule = optax.warmup_cosine_decay_schedule(
        0.0, args.lr, min(100, args.steps // 10), args.steps, args.lr * 0.02
    )
    opt = optax.adamw(schedule, weight_decay=1e-4)
    state = opt.init(params)

    @jax.jit
    def step(params, state, x, t):
        (loss, parts), grads = jax.value_and_grad(loss_fn, has_aux=True)(params, x, t)
        updates, state = opt.update(grads, state, params)
        return optax.apply_updates(params, updates), state, loss, parts

    held_loss = jax.jit(loss_fn)
    batches: queue.Queue[tuple[np.ndarray, np.ndarray]] = queue.Queue(maxsize=4)

    def produce() -> None:  # the crops of the next steps, made while a step runs
        while True:
            batches.put(batch(ti, tl, real, rng, args.batch, fills=fills, residues=residues))

    threading.Thread(target=produce, daemon=True).start()
    start = time.time()
    for n in range(1, args.steps + 1):
        x, t = batches.get()
        params, state, loss, parts = step(params, state, x, t)
        if n % 50 == 0:
            hl, hp = held_loss(params, hx, ht)
            print(
                f"step {n} {time.time() - start:.0f}s loss {float(loss):.3f} held {float(hl):.3f} "
                + " ".join(f"{float(p):.3f}" for p in hp),
                flush=True,
            )
        if n % args.save_every == 0 or time.time() - start > args.minutes * 60:
            flat = {f"{k}.{a}": np.asarray(v) for k, d in params.items() for a, v in d.items()}
            np.savez(args.out, steps=n, **flat)
        if time.time() - start > args.minutes * 60:
            break
    print(f"saved {args.out}", flush=True)


if __name__ == "__main__":
    main()
