"""The scan kernel: windows, FDR, components and polygons, checked against brute force."""

from __future__ import annotations

import numpy as np
import pytest
import shapely
from scipy import ndimage
from scipy.stats import binom

from geodispatch.analysis.grid_scan import (
    Grid,
    ScanArea,
    _sparse_window_sums,
    bh_reject,
    cells_to_polygons,
    claim_neighbours,
    count_windows,
    label_cells,
    land_from_points,
    poisson_scan,
    share_scan,
    window_sums,
)
from geodispatch.domain.errors import InputError


def brute_window(values: np.ndarray, half: int) -> np.ndarray:
    ny, nx = values.shape
    out = np.zeros_like(values)
    for r in range(ny):
        for c in range(nx):
            out[r, c] = values[
                max(r - half, 0) : r + half + 1, max(c - half, 0) : c + half + 1
            ].sum()
    return out


def test_window_sums_match_brute_force_including_edges() -> None:
    values = np.random.default_rng(1).poisson(0.7, size=(13, 17))
    one, four = window_sums(values, (1, 4))
    assert np.array_equal(one, brute_window(values, 1))
    assert np.array_equal(four, brute_window(values, 4))


def test_sparse_window_sums_agree_with_dense_ones() -> None:
    grid = Grid(x0=0, y0=0, cell_m=25, nx=16, ny=16)
    values = np.zeros((16, 16), dtype=np.int64)
    values[0, 0], values[5, 7], values[15, 15], values[6, 7] = 3, 2, 1, 4
    occupied = np.flatnonzero(values)
    cells, sums = _sparse_window_sums(grid, occupied, values.ravel()[occupied], 2)
    dense = window_sums(values, (2,))[0].ravel()
    assert np.array_equal(sums, dense[cells])
    assert set(np.flatnonzero(dense)) == set(cells.tolist())


def test_benjamini_hochberg_rejects_the_step_up_set_and_counts_the_whole_family() -> None:
    p = np.array([0.001, 0.008, 0.039, 0.041, 0.042, 0.06, 0.074, 0.205, 0.212, 0.216])
    reject, q = bh_reject(p, q=0.05)
    assert reject.tolist() == [True, True] + [False] * 8
    assert q[0] == pytest.approx(0.01)
    # the same p-values inside a family of 1,000 tests: none survives
    reject_big, _ = bh_reject(p, q=0.05, m=1000)
    assert not reject_big.any()


def test_touching_cells_merge_diagonals_included_and_apart_cells_do_not() -> None:
    grid = Grid(x0=0, y0=0, cell_m=25, nx=10, ny=10)
    cells = np.array([0, 11, 22, 55, 56, 99])  # a diagonal chain, a pair, a loner
    labels, n = label_cells(grid, np.sort(cells))
    assert n == 3
    assert labels[0] == labels[1] == labels[2]
    assert labels[3] == labels[4] != labels[0]


def test_cells_become_one_polygon_per_hotspot_with_the_area_of_its_cells() -> None:
    grid = Grid(x0=100, y0=200, cell_m=25, nx=10, ny=10)
    cells = np.array([0, 1, 2, 10, 11, 77])
    labels, n = label_cells(grid, cells)
    polygons = cells_to_polygons(grid, cells, labels, n)
    assert len(polygons) == 2
    assert sorted(p.area for p in polygons) == [625.0, 5 * 625.0]
    assert all(p.is_valid for p in polygons)
    assert polygons[labels[0]].contains(shapely.Point(112.5, 212.5))


def test_land_inferred_from_reports_fills_a_quiet_park_but_not_an_open_harbour() -> None:
    grid = Grid(x0=0, y0=0, cell_m=25, nx=80, ny=80, block=8)
    rng = np.random.default_rng(3)
    x, y = rng.uniform(0, 2000, 20_000), rng.uniform(0, 2000, 20_000)
    park = (np.abs(x - 1000) < 200) & (np.abs(y - 1000) < 200)
    harbour = x + y > 3000
    land = land_from_points(
        grid, grid.locate(x[~park & ~harbour], y[~park & ~harbour]), block_m=250
    )
    assert land[40, 40]  # the park is surrounded by reports: still land
    assert not land[79, 79]  # the harbour corner never had a report


def test_grid_refuses_a_continent_sized_area() -> None:
    with pytest.raises(InputError, match="far outside the city"):
        Grid.covering((0, 0, 500_000, 500_000), cell_m=25, block=8, pad_m=0)


def test_scan_on_pure_noise_finds_nothing_and_a_planted_cluster_is_found() -> None:
    rng = np.random.default_rng(11)
    grid = Grid(x0=0, y0=0, cell_m=25, nx=160, ny=160, block=8)
    land = np.ones(grid.shape, dtype=bool)
    area = ScanArea.build(grid, land, halves=(1, 4), sigma_blocks=5)
    x, y = rng.uniform(0, 4000, 30_000), rng.uniform(0, 4000, 30_000)
    cells = grid.locate(x, y)
    noise = poisson_scan(area, cells, area.baseline(cells), fdr_q=0.05, min_ratio=3, min_reports=5)
    assert noise.cell.size == 0
    planted = grid.locate(rng.normal(2000, 15, 40), rng.normal(2000, 15, 40))
    both = np.concatenate([cells, planted])
    found = poisson_scan(area, both, area.baseline(both), fdr_q=0.05, min_ratio=3, min_reports=5)
    assert found.cell.size > 0
    assert grid.locate(np.array([2000.0]), np.array([2000.0]))[0] in found.cell
    assert (found.q < 0.05).all()


def test_window_counts_answer_the_same_for_rare_and_busy_inputs() -> None:
    grid = Grid(x0=0, y0=0, cell_m=25, nx=40, ny=40, block=8)
    area = ScanArea.build(grid, np.ones(grid.shape, dtype=bool), halves=(1, 4), sigma_blocks=2)
    rng = np.random.default_rng(5)
    few = rng.integers(0, grid.size, 3)  # sparse path
    many = np.concatenate([few, rng.integers(0, grid.size, 2_000)])  # dense path
    for observed in (few, many):
        counts = count_windows(area, observed)
        dense = window_sums(grid.counts(observed), (1, 4))
        probe = np.arange(grid.size)
        for k in (0, 1):
            assert np.array_equal(counts.at(k, probe), dense[k].ravel())
        assert set(counts.occupied.tolist()) == set(observed.tolist())
    assert count_windows(area, few).dense is None
    assert count_windows(area, many).dense is not None


def test_the_scan_marks_cells_whose_smallest_window_was_rejected() -> None:
    rng = np.random.default_rng(12)
    grid = Grid(x0=0, y0=0, cell_m=25, nx=160, ny=160, block=8)
    area = ScanArea.build(grid, np.ones(grid.shape, dtype=bool), halves=(1, 4), sigma_blocks=5)
    cells = grid.locate(rng.uniform(0, 4000, 5_000), rng.uniform(0, 4000, 5_000))
    spot = grid.locate(rng.normal(2000, 20, 60), rng.normal(2000, 20, 60))
    both = np.concatenate([cells, spot])
    found = poisson_scan(area, both, area.baseline(both), fdr_q=0.05, min_ratio=3, min_reports=5)
    assert found.small is not None
    assert found.small.size == found.cell.size
    centre = grid.locate(np.array([2000.0]), np.array([2000.0]))[0]
    assert found.small[found.cell == centre].all()
    # the 225 m window reaches farther than the 75 m one: its outer cells are not cores
    assert not found.small.all()


def test_share_scan_finds_windows_whose_recent_share_jumped() -> None:
    """Everywhere 1 report in 8 is recent; one corner got 20 recent on top of its 8 old."""
    grid = Grid(x0=0, y0=0, cell_m=25, nx=40, ny=40, block=8)
    area = ScanArea.build(grid, np.ones(grid.shape, dtype=bool), halves=(1,), sigma_blocks=2)
    every = np.repeat(np.arange(grid.size), 8)  # 8 reports in every cell
    recent_cells = np.arange(grid.size)  # one of them recent
    corner = 20 * 40 + 20
    observed = np.concatenate([every, np.full(20, corner)])
    recent = np.concatenate([recent_cells, np.full(20, corner)])
    total_counts, recent_counts = count_windows(area, observed), count_windows(area, recent)
    share = recent.size / observed.size
    probe = np.arange(grid.size)
    found = share_scan(
        area,
        probe,
        recent_counts,
        total_counts,
        share=share,
        fdr_q=0.05,
        min_rate_ratio=2,
        min_reports=5,
    )
    # the corner and the 8 cells whose 3 × 3 window holds it; nothing else
    row, col = np.divmod(found.cell, 40)
    assert found.cell.size == 9
    assert (abs(row - 20) <= 1).all()
    assert (abs(col - 20) <= 1).all()
    # the p-value is the binomial upper tail of the window's recent reports
    window_total, window_recent = 9 * 8 + 20, 9 + 20
    expected_p = binom.sf(window_recent - 1, window_total, share)
    assert found.p[found.cell == corner][0] == pytest.approx(expected_p)
    # a city-wide share test with the same counts everywhere finds nothing
    flat = share_scan(
        area,
        probe,
        count_windows(area, recent_cells),
        count_windows(area, every),
        share=1 / 8,
        fdr_q=0.05,
        min_rate_ratio=2,
        min_reports=5,
    )
    assert flat.cell.size == 0


def test_a_cluster_claims_the_touching_cells_where_allowed() -> None:
    grid = Grid(x0=0, y0=0, cell_m=25, nx=5, ny=5)
    allowed = np.ones(grid.shape, dtype=bool)
    allowed[0, :] = False  # the bottom row is water
    claimed = claim_neighbours(grid, np.array([6]), allowed)  # row 1, col 1
    assert claimed.tolist() == [5, 7, 10, 11, 12]
    assert claim_neighbours(grid, np.array([6, 7]), allowed).tolist() == [5, 8, 10, 11, 12, 13]


@pytest.mark.parametrize("reach", [0, 1, 2])
def test_cell_components_match_image_labelling_of_the_grown_cells(reach: int) -> None:
    """Components from the cells alone equal ndimage's labels of the grid (grown by reach)."""
    grid = Grid(x0=0, y0=0, cell_m=25, nx=60, ny=50)
    rng = np.random.default_rng(40 + reach)
    cells = np.sort(rng.choice(grid.size, 300, replace=False))
    labels, n = label_cells(grid, cells, reach=reach)
    mask = np.zeros(grid.shape, dtype=bool)
    mask.ravel()[cells] = True
    square = np.ones((3, 3), dtype=bool)
    grown = ndimage.binary_dilation(mask, square, iterations=reach) if reach else mask
    image, n_image = ndimage.label(grown, structure=square)
    expected = image.ravel()[cells] - 1
    # the same partition, numbered the same way (row-major order of first cells) at reach 0
    assert n == len(np.unique(expected))
    pairs = set(zip(labels.tolist(), expected.tolist(), strict=True))
    assert len(pairs) == n
    if reach == 0:
        assert n == n_image
        assert np.array_equal(labels, expected)
