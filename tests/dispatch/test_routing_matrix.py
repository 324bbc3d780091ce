"""Travel-time matrices: the straight-line model, the cache and an OSRM table server."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer

import numpy as np
import pytest

from geodispatch.dispatch.matrix import (
    MatrixCache,
    StraightLineParams,
    StraightLineSource,
)
from geodispatch.domain.errors import InputError, PlanningError
from geodispatch.io.osrm import OsrmTableSource
from tests.dispatch.routing_helpers import KM_LON, YARD_LAT, east


def test_one_kilometre_is_187_seconds_at_the_documented_defaults():
    points = np.array([[east(0), YARD_LAT], [east(1), YARD_LAT], [east(2), YARD_LAT]])
    seconds = StraightLineSource().seconds(points)
    assert seconds.dtype == np.int64
    assert seconds[0, 1] == 187
    assert seconds[0, 2] == 374
    assert (seconds == seconds.T).all()
    assert (np.diag(seconds) == 0).all()


def test_slower_speed_and_more_circuity_mean_longer_trips():
    points = np.array([[east(0), YARD_LAT], [east(1), YARD_LAT]])
    slow = StraightLineSource(StraightLineParams(circuity=1.5, speed_kmh=15)).seconds(points)
    assert slow[0, 1] == round(1500 / (15 / 3.6))


def test_bad_parameters_say_what_to_pass():
    with pytest.raises(InputError, match="speed_kmh must be in"):
        StraightLineParams(speed_kmh=0)


def test_the_cache_computes_each_set_of_points_once():
    cache = MatrixCache(size=2)
    points = np.array([[east(0), YARD_LAT], [east(1), YARD_LAT]])
    first = cache.get(StraightLineSource(), points)
    second = cache.get(StraightLineSource(), points.copy())
    assert first is second
    assert cache.hits == 1
    assert cache.misses == 1


class _Osrm(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        path, _, query = self.path.partition("?")
        coords = path.rsplit("/", 1)[-1].split(";")
        args = dict(part.split("=") for part in query.split("&"))
        sources = [int(x) for x in args["sources"].split(";")]
        targets = [int(x) for x in args["destinations"].split(";")]
        lons = [float(c.split(",")[0]) for c in coords]
        if any(lon > 0 for lon in lons):
            body = {"code": "NoSegment", "message": "Could not find a matching segment"}
        else:
            body = {
                "code": "Ok",
                "durations": [
                    [abs(lons[i] - lons[j]) / KM_LON * 100.4 for j in targets] for i in sources
                ],
            }
        data = json.dumps(body).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def osrm_url() -> Iterator[str]:
    server = HTTPServer(("127.0.0.1", 0), _Osrm)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_osrm_durations_are_fetched_in_blocks_and_rounded(osrm_url: str):
    points = np.array([[east(k), YARD_LAT] for k in range(5)])
    seconds = OsrmTableSource(osrm_url, block=2).seconds(points)
    assert seconds[0, 4] == 402
    assert seconds[3, 1] == 201
    assert (np.diag(seconds) == 0).all()


def test_osrm_errors_name_the_server_answer(osrm_url: str):
    with pytest.raises(PlanningError, match="NoSegment"):
        OsrmTableSource(osrm_url).seconds(np.array([[1.0, 1.0], [2.0, 2.0]]))
