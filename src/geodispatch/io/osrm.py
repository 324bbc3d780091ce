"""Road travel times from an OSRM server's ``table`` service (network I/O, so in ``io/``)."""

from __future__ import annotations

import json
import math
import urllib.error
import urllib.request
from dataclasses import dataclass

import numpy as np

from geodispatch.domain.errors import PlanningError


@dataclass(frozen=True, slots=True)
class OsrmTableSource:
    """Road travel times from an OSRM server's ``table`` service (durations, seconds).

    ``base_url`` is the server, e.g. ``http://localhost:5000``. Large matrices are fetched
    in blocks of ``block`` × ``block`` points (OSRM's default ``max-table-size`` is 100).
    Durations are rounded to whole seconds; a pair OSRM cannot route raises
    :class:`PlanningError` naming the points.
    """

    base_url: str
    profile: str = "driving"
    block: int = 100
    timeout_s: float = 30.0

    @property
    def key(self) -> str:
        """Identifies the server and profile."""
        return f"osrm:{self.base_url.rstrip('/')}:{self.profile}"

    def seconds(self, lonlat: np.ndarray) -> np.ndarray:
        """Travel seconds between every pair of points, fetched block by block."""
        pts = np.asarray(lonlat, dtype=float)
        n = len(pts)
        out = np.zeros((n, n), dtype=np.int64)
        for i0 in range(0, n, self.block):
            for j0 in range(0, n, self.block):
                rows = list(range(i0, min(n, i0 + self.block)))
                cols = list(range(j0, min(n, j0 + self.block)))
                out[np.ix_(rows, cols)] = self._fetch(pts, rows, cols)
        np.fill_diagonal(out, 0)
        return out

    def _fetch(self, pts: np.ndarray, rows: list[int], cols: list[int]) -> np.ndarray:
        ids = sorted(set(rows) | set(cols))
        pos = {p: k for k, p in enumerate(ids)}
        coords = ";".join(f"{pts[p, 0]:.6f},{pts[p, 1]:.6f}" for p in ids)
        url = (
            f"{self.base_url.rstrip('/')}/table/v1/{self.profile}/{coords}"
            f"?sources={';'.join(str(pos[r]) for r in rows)}"
            f"&destinations={';'.join(str(pos[c]) for c in cols)}&annotations=duration"
        )
        try:
            with urllib.request.urlopen(url, timeout=self.timeout_s) as response:
                body = json.loads(response.read().decode("utf-8"))
        except (urllib.error.URLError, TimeoutError, json.JSONDecodeError) as exc:
            raise PlanningError(
                f"OSRM table request to {self.base_url} failed ({exc}); check the server is "
                "running, or plan with the straight-line matrix"
            ) from exc
        if body.get("code") != "Ok":
            raise PlanningError(
                f"OSRM answered {body.get('code')!r}: {body.get('message', '')}; "
                "check the points lie inside the server's map extract"
            )
        block = body["durations"]
        out = np.zeros((len(rows), len(cols)), dtype=np.int64)
        for a, row in enumerate(block):
            for b, value in enumerate(row):
                if value is None:
                    raise PlanningError(
                        f"OSRM finds no road from point {rows[a]} ({pts[rows[a]].tolist()}) to "
                        f"point {cols[b]} ({pts[cols[b]].tolist()}); check both locations"
                    )
                out[a, b] = math.floor(float(value) + 0.5)
        return out
