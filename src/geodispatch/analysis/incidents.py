"""What counts as an event for hotspots: incidents (jobs), not requests.

Ten residents reporting one broken street light are one problem: intake merges their
requests into one job, and a request a dispatcher closes as a duplicate was never a
problem of its own. Hotspots count each incident once, at the location of its first
request, and report how many requests it drew beside.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from geodispatch.domain.requests import RequestStatus

__all__ = ["Incidents", "incidents"]


@dataclass(frozen=True, slots=True)
class Incidents:
    """Which request rows stand for an incident, and how many requests each one drew.

    ``event`` marks one row per incident (the first request of its job, or a request
    without a job); ``incident`` gives every row its incident's number (-1 for a request
    closed as a duplicate of something outside the frame); ``requests`` the requests per
    incident, indexed by that number.
    """

    event: np.ndarray
    incident: np.ndarray
    requests: np.ndarray

    @property
    def count(self) -> int:
        """Number of incidents."""
        return int(self.event.sum())


def incidents(frame: pd.DataFrame) -> Incidents:
    """Group request rows into incidents by ``job_id`` (``status`` and ``created_at`` too).

    Requests of one job are one incident, at its earliest request. A request closed as a
    duplicate joins its job when it has one; without a job it adds nothing (it repeats a
    problem reported elsewhere). A request with neither a job nor a duplicate status is
    an incident of its own.
    """
    n = len(frame)
    job = pd.to_numeric(frame["job_id"], errors="coerce").to_numpy(dtype=float)
    duplicate = (frame["status"].astype("string") == RequestStatus.CLOSED_DUPLICATE.value).to_numpy(
        dtype=bool, na_value=False
    )
    created = pd.to_datetime(frame["created_at"], utc=True).to_numpy(dtype="datetime64[ns]")
    has_job = np.isfinite(job)
    # a key per incident: the job, or the row itself (offset past every job id)
    offset = (np.nanmax(job) + 1) if has_job.any() else 0.0
    key = np.where(has_job, job, offset + np.arange(n))
    alone_duplicate = duplicate & ~has_job
    key[alone_duplicate] = np.nan
    valid = ~np.isnan(key)
    codes = np.full(n, -1, dtype=np.int64)
    codes[valid] = pd.factorize(key[valid])[0]
    n_inc = int(codes.max()) + 1 if valid.any() else 0
    # the first request of each incident (earliest time, then lowest row) is its event
    order = np.lexsort((np.arange(n), created.view(np.int64), codes))
    order = order[codes[order] >= 0]
    first = np.ones(order.size, dtype=bool)
    first[1:] = codes[order][1:] != codes[order][:-1]
    event = np.zeros(n, dtype=bool)
    event[order[first]] = True
    return Incidents(
        event=event,
        incident=codes,
        requests=np.bincount(codes[valid], minlength=n_inc),
    )
