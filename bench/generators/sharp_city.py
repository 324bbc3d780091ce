"""A hard hotspot scenario: sharp dense places that raise every request type alike.

The team's shared generator draws its background from smooth density blobs, where a
detector that only looks for density can pass. A city is not smooth: a downtown ends at
a street, and a housing complex of a few hundred flats sits in a quiet neighbourhood.
Both raise every kind of report at once (more people, more reports) and neither is a
problem place. This generator builds such a city, then plants real problems in it.

City: 10 km x 10 km in a metric CRS (UTM 19N coordinates, for the look of it).
Exposure (people, addresses): a smooth surface of broad blobs, a downtown rectangle of
about 2.5 km x 1.8 km at 6x with a sharp edge, and 30 housing complexes (squares and
discs of 50-150 m half-size) at 6x-20x. Every type follows the exposure.
Types: 10 with unequal shares, each with its own smooth tilt (a few broad Gaussians,
ratio up to about 2x across the city): the type mix changes slowly from place to place.
Planted hotspots: 40 discs of one type each, radius log-uniform in 30-600 m, excess
log-uniform in 2x-15x: the type's rate inside is ``excess`` times what the place's
exposure and the type's share predict, drawn from the same exposure (so the excess sits
where the people are). A quarter are centred in the downtown, a quarter on a housing
complex, the rest anywhere; discs never overlap. 30 % are emerging: their extra reports
all fall in the last 90 days. Span: 730 days.

Output (like the shared generator): <out>/pts_<N>.npz (x, y, type, t_days) and
<out>/truth_<N>.csv (id, x, y, radius, type, n, exp_bg, exp_bg_recent, emerging, ratio,
place), plus <out>/dense_<N>.csv (kind, x, y, half, shape) for the dense-but-normal places.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import pandas as pd

X0, Y0 = 320_000.0, 4_680_000.0
SIDE = 10_000.0
CELL = 10.0
NG = int(SIDE / CELL)
DAYS, RECENT = 730.0, 90.0
N_TYPES = 10
N_PLANTED = 40
N_COMPLEXES = 30


def _centres() -> np.ndarray:
    return (np.arange(NG) + 0.5) * CELL


def _blobs(rng: np.random.Generator, n: int, lo: float, hi: float) -> np.ndarray:
    c = _centres()
    xx, yy = np.meshgrid(c, c)
    out = np.zeros((NG, NG))
    for _ in range(n):
        cx, cy = rng.uniform(0, SIDE, 2)
        s = rng.uniform(lo, hi)
        out += rng.uniform(0.3, 1.0) * np.exp(-((xx - cx) ** 2 + (yy - cy) ** 2) / (2 * s * s))
    return out


def exposure(rng: np.random.Generator) -> tuple[np.ndarray, pd.DataFrame]:
    """Exposure per 10 m cell (sums to 1) and the dense places drawn into it."""
    c = _centres()
    xx, yy = np.meshgrid(c, c)
    surface = 0.3 + _blobs(rng, 12, 1500, 4000)
    places = []
    dx0, dy0 = rng.uniform(3000, 5000, 2)
    w, h = rng.uniform(2200, 2800), rng.uniform(1500, 2000)
    downtown = (xx >= dx0) & (xx < dx0 + w) & (yy >= dy0) & (yy < dy0 + h)
    surface[downtown] *= 6.0
    places.append(("downtown", dx0 + w / 2, dy0 + h / 2, max(w, h) / 2, "rect", w, h))
    for _ in range(N_COMPLEXES):
        cx, cy = rng.uniform(500, SIDE - 500, 2)
        half = rng.uniform(50, 150)
        if rng.random() < 0.5:
            mask = (np.abs(xx - cx) <= half) & (np.abs(yy - cy) <= half)
            shape = "square"
        else:
            mask = (xx - cx) ** 2 + (yy - cy) ** 2 <= half**2
            shape = "disc"
        surface[mask] *= rng.uniform(6, 20)
        places.append(("complex", cx, cy, half, shape, 2 * half, 2 * half))
    frame = pd.DataFrame(places, columns=["kind", "x", "y", "half", "shape", "w", "h"])
    return surface / surface.sum(), frame


def _sample(rng: np.random.Generator, p: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
    cum = np.cumsum(p.ravel())
    idx = np.searchsorted(cum, rng.random(n) * cum[-1])
    iy, ix = np.divmod(np.minimum(idx, p.size - 1), NG)
    return (ix + rng.random(n)) * CELL, (iy + rng.random(n)) * CELL


def _in_dense(dense: pd.DataFrame, x: float, y: float) -> str:
    for row in dense.itertuples():
        if row.shape == "disc":
            inside = (x - row.x) ** 2 + (y - row.y) ** 2 <= row.half**2
        else:
            inside = abs(x - row.x) <= row.w / 2 and abs(y - row.y) <= row.h / 2
        if inside:
            return str(row.kind)
    return ""


def generate(n_total: int, seed: int) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Points, planted truth and dense places for ``n_total`` background reports."""
    rng = np.random.default_rng(seed)
    expo, dense = exposure(rng)
    shares = rng.dirichlet(np.full(N_TYPES, 2.0))
    shares = np.maximum(shares, 0.02)
    shares /= shares.sum()
    type_maps = []
    for _ in range(N_TYPES):
        tilt = _blobs(rng, 4, 2000, 5000)
        tilt = 1.0 + tilt / tilt.max()  # up to 2x across the city, smooth
        m = expo * tilt
        type_maps.append(m / m.sum())
    counts = rng.multinomial(n_total, shares)
    xs, ys, ts, ks = [], [], [], []
    for k in range(N_TYPES):
        x, y = _sample(rng, type_maps[k], int(counts[k]))
        xs.append(x)
        ys.append(y)
        ts.append(rng.uniform(0, DAYS, x.size))
        ks.append(np.full(x.size, k, dtype=np.int16))

    c = _centres()
    xx, yy = np.meshgrid(c, c)
    planted = []
    downtown = dense.iloc[0]
    complexes = dense.iloc[1:]
    tries = 0
    while len(planted) < N_PLANTED and tries < 10_000:
        tries += 1
        r = float(np.exp(rng.uniform(np.log(30), np.log(600))))
        where = rng.random()
        if where < 0.25:
            cx = rng.uniform(downtown.x - downtown.w / 2, downtown.x + downtown.w / 2)
            cy = rng.uniform(downtown.y - downtown.h / 2, downtown.y + downtown.h / 2)
        elif where < 0.5:
            row = complexes.iloc[int(rng.integers(len(complexes)))]
            cx, cy = row.x + rng.normal(0, 20), row.y + rng.normal(0, 20)
            r = min(r, float(row.half) * 1.5)
        else:
            cx, cy = rng.uniform(r, SIDE - r, 2)
        if any((cx - p[1]) ** 2 + (cy - p[2]) ** 2 < (r + p[3] + 200) ** 2 for p in planted):
            continue
        k = int(rng.choice(N_TYPES, p=shares))
        ratio = float(np.exp(rng.uniform(np.log(2), np.log(15))))
        emerging = bool(rng.random() < 0.3)
        disc = (xx - cx) ** 2 + (yy - cy) ** 2 <= r * r
        lam = type_maps[k] * counts[k]
        exp_bg = float(lam[disc].sum())
        exp_recent = exp_bg * RECENT / DAYS
        base = exp_recent if emerging else exp_bg
        n = int(rng.poisson(max(8.0, (ratio - 1) * base)))
        inside = np.where(disc, lam, 0.0)
        x, y = _sample(rng, inside / inside.sum(), n)
        t = rng.uniform(DAYS - RECENT if emerging else 0, DAYS, n)
        xs.append(x)
        ys.append(y)
        ts.append(t)
        ks.append(np.full(n, k, dtype=np.int16))
        planted.append(
            (len(planted), cx, cy, r, k, n, exp_bg, exp_recent, emerging, ratio,
             _in_dense(dense, cx, cy))
        )  # fmt: skip
    truth = pd.DataFrame(
        planted,
        columns=["id", "x", "y", "radius", "type", "n", "exp_bg", "exp_bg_recent", "emerging",
                 "ratio", "place"],
    )  # fmt: skip
    points = pd.DataFrame(
        {
            "x": X0 + np.concatenate(xs),
            "y": Y0 + np.concatenate(ys),
            "type": np.concatenate(ks),
            "t_days": np.concatenate(ts).astype(np.float32),
        }
    )
    truth["x"] += X0
    truth["y"] += Y0
    dense["x"] += X0
    dense["y"] += Y0
    return points.sample(frac=1.0, random_state=seed).reset_index(drop=True), truth, dense


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    for n in args.n:
        points, truth, dense = generate(n, args.seed)
        np.savez(
            args.out / f"pts_{n}.npz",
            x=points["x"].to_numpy(),
            y=points["y"].to_numpy(),
            type=points["type"].to_numpy(),
            t_days=points["t_days"].to_numpy(),
        )
        truth.to_csv(args.out / f"truth_{n}.csv", index=False)
        dense.to_csv(args.out / f"dense_{n}.csv", index=False)
        print(f"seed {args.seed} N={n:,}: {len(points):,} points, {len(truth)} planted")


if __name__ == "__main__":
    main()
