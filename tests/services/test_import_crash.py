"""kill -9 in the middle of an import, then import again: the same database as a clean import."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pandas as pd
from sqlalchemy import select

from geodispatch.config import Settings
from geodispatch.services.intake import import_file, recent_imports
from geodispatch.storage.db import get_engine
from geodispatch.storage.tables import RejectedRowRow, RequestRow, ServiceTypeRow
from tests.conftest import BOSTON_2011, DATA, ROOT, write_csv
from tests.intake.boston_rows import HEADER_2011, row

IMPORT_WITH_PROGRESS = """
import sys
from pathlib import Path
from geodispatch.services.intake import import_file
def progress(done, total):
    print(f"stored {done}", flush=True)
import_file(Path(sys.argv[1]), progress=progress)
print("finished", flush=True)
"""


def table(settings: Settings, model: type, drop: tuple[str, ...], key: list[str]) -> pd.DataFrame:
    with get_engine(settings.database_url).connect() as connection:
        frame = pd.read_sql(select(model.__table__), connection)
    return frame.drop(columns=list(drop)).sort_values(key).reset_index(drop=True)


def snapshot(settings: Settings) -> dict[str, pd.DataFrame]:
    return {
        "requests": table(
            settings, RequestRow, ("id", "import_id", "updated_at"), ["source", "source_id"]
        ),
        "rejected": table(settings, RejectedRowRow, ("id", "import_id"), ["line", "field"]),
        "service_types": table(settings, ServiceTypeRow, ("updated_at",), ["code"]),
    }


def test_kill_9_during_an_import_then_importing_again_equals_a_clean_import(
    tmp_path: Path,
) -> None:
    # the real 2011 file plus a few bad rows, so rejects are part of the comparison
    extra = write_csv(
        tmp_path / "bad.csv",
        HEADER_2011,
        [row(case_enquiry_id="x1", type=""), row(case_enquiry_id="x2")],
    )
    killed = Settings(home=tmp_path / "killed", data_dir=DATA)
    env = dict(
        os.environ,
        GEODISPATCH_HOME=str(killed.home),
        GEODISPATCH_DB_URL="",
        PYTHONPATH=str(ROOT / "src"),
    )
    process = subprocess.Popen(
        [sys.executable, "-c", IMPORT_WITH_PROGRESS, str(BOSTON_2011)],
        env=env,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    first = process.stdout.readline()
    assert first.startswith("stored"), first  # one chunk written, transaction still open
    os.kill(process.pid, signal.SIGKILL)
    process.wait()
    assert process.returncode == -signal.SIGKILL

    interrupted = recent_imports(settings=killed)
    assert [i.status for i in interrupted] == ["running"]
    assert table(killed, RequestRow, (), ["id"]).empty  # nothing of the killed run was kept

    import_file(BOSTON_2011, settings=killed)
    import_file(extra, settings=killed)
    assert [i.status for i in recent_imports(settings=killed)] == ["done", "done", "failed"]

    clean = Settings(home=tmp_path / "clean", data_dir=DATA)
    import_file(BOSTON_2011, settings=clean)
    import_file(extra, settings=clean)

    after, expected = snapshot(killed), snapshot(clean)
    for name, frame in expected.items():
        pd.testing.assert_frame_equal(after[name], frame, check_like=True, obj=name)
    assert len(after["requests"]) == 58_252
    assert len(after["rejected"]) == 1
