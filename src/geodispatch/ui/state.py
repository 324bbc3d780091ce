"""Session-state keys that carry a choice from one page to another."""

from __future__ import annotations

from typing import Final

#: Open jobs → Plan today: the job the dispatcher marked urgent (the Plan page fills its
#: urgent form with it and opens the day's published plan).
URGENT_FROM_JOBS: Final = "urgent-from-jobs"
#: The Plan page's urgent-job input (a widget key, set before the widget is drawn).
URGENT_JOB: Final = "plan-urgent-job"
