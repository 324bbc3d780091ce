"""Import page: upload a file, map its columns if needed, see accepted and rejected rows."""

import streamlit as st

from geodispatch.domain.accounts import Action, Page
from geodispatch.domain.errors import GeodispatchError
from geodispatch.intake.generic_csv import ColumnMapping
from geodispatch.intake.normalize import RAW_FIELDS, REQUIRED_RAW
from geodispatch.services.intake import (
    InputFormat,
    import_file,
    preview_upload,
    recent_imports,
    rejected_rows,
    save_upload,
)
from geodispatch.ui import columns
from geodispatch.ui.auth import staff_page, why_not
from geodispatch.ui.warm_up import warm_in_background
from geodispatch.ui.widgets import Metric, count, local, md_escape, metrics, show_error, table

user = staff_page(Page.IMPORT)
st.title("Import requests")
st.caption(
    "A city export (Boston layout, 2011 or current), an Open311 requests.json, or any "
    "CSV with a column mapping. Every row is accepted or listed below with its fix."
)

upload = st.file_uploader("Request file", type=["csv", "gz", "json"], key="import-file")
if upload is not None:
    try:
        path = save_upload(upload.name, upload.getvalue())
        preview = preview_upload(path)
    except GeodispatchError as exc:
        show_error(exc)
        st.stop()
    st.caption(f"First rows of {md_escape(upload.name)}:")
    st.dataframe(preview.sample, hide_index=True, width="stretch")
    mapping = None
    if preview.fmt is None:
        st.warning(
            "This file is not in a layout geodispatch knows. Say which column holds "
            "what; the required fields are marked *."
        )
        choices = ["—", *preview.header]
        columns = {}
        grid = st.columns(3)
        for i, field in enumerate(RAW_FIELDS):
            label = f"{field} *" if field in REQUIRED_RAW else field
            picked = grid[i % 3].selectbox(label, choices, key=f"map-{field}")
            if picked != "—":
                columns[field] = picked
        try:
            mapping = ColumnMapping(columns)
        except GeodispatchError as exc:
            show_error(exc, warn=True)
    else:
        st.success(f"Recognised as: {preview.fmt.value.replace('_', ' ')}")
    source = st.text_input(
        "Source name (the id space of these rows)",
        value="boston" if preview.fmt is InputFormat.CITY_EXPORT else "",
        key="import-source",
        help="Rows are matched to earlier imports by this name and their id.",
    )
    ready = preview.fmt is not None or mapping is not None
    cannot_import = why_not(user, Action.IMPORT)
    if st.button(
        "Import",
        type="primary",
        disabled=not ready or bool(cannot_import),
        key="import-run",
        help=cannot_import,
    ):
        bar = st.progress(0.0, text="Importing…")

        def progress(done: int, total: int | None) -> None:
            """Move the bar as chunks are stored."""
            bar.progress(min(1.0, done / total) if total else 0.5, text=f"Importing… {done:,} rows")

        try:
            summary = import_file(
                path,
                fmt=InputFormat.CSV if mapping else InputFormat.AUTO,
                source=source.strip() or None,
                mapping=mapping,
                progress=progress,
                by=user,
            )
        except GeodispatchError as exc:
            bar.empty()
            show_error(exc)
            st.stop()
        bar.progress(1.0, text="Done")
        if summary.inserted or summary.updated:
            warm_in_background()  # the other pages' figures for the new data, ahead of them
        metrics(
            Metric("Rows read", count(summary.rows_read)),
            Metric(
                "Accepted",
                count(summary.accepted),
                f"{summary.inserted:,} new, {summary.updated:,} updated, "
                f"{summary.unchanged:,} unchanged",
            ),
            Metric("Rejected", count(summary.rejected), "listed below, each with its fix"),
            Metric(
                "Location unknown",
                count(summary.location_unknown),
                "accepted, but without a usable point: they cannot be routed or mapped",
            ),
        )
        grouping = summary.grouping
        st.subheader("Jobs for the open reports")
        metrics(
            Metric(
                "Linked to existing jobs",
                count(grouping.attached),
                "reports of a problem already being handled: each joined that job as one "
                "more caller, so no crew goes twice",
            ),
            Metric(
                "New jobs",
                count(grouping.new_jobs),
                "one job per problem not yet known; a crew visit each",
            ),
            Metric(
                "Repeat reports merged",
                count(grouping.merged),
                "reports of the same problem in this batch, merged into its new job",
            ),
            Metric(
                "Jobs closed at the source",
                count(grouping.closed_at_source),
                "open jobs whose every report the source system has now closed",
            ),
        )
        st.caption(grouping.in_words())
        if summary.closures.closed:
            st.subheader("What the closing notes say")
            st.caption(summary.closures.describe())
        rows, total = rejected_rows(import_id=summary.import_id, limit=500)
        if total:
            st.subheader(f"Rejected rows ({total:,})")
            table(
                [
                    {
                        "line": r.line,
                        "field": r.field,
                        "value": r.value,
                        "problem": r.problem,
                        "fix": r.fix,
                    }
                    for r in rows
                ],
                {
                    "line": columns.number("Line", "%d"),
                    "field": "Field",
                    "value": "Value",
                    "problem": "Problem",
                    "fix": "How to fix it",
                },
                key="import-rejected",
            )
        else:
            st.success("Every row was accepted.")

st.subheader("Recent imports")
imports = recent_imports(limit=15)
if imports:
    table(
        [
            {
                "when": local(i.started_at, "%Y-%m-%d %H:%M"),
                "file": i.file_name,
                "source": i.source,
                "status": i.status,
                "read": i.rows_read,
                "accepted": i.accepted,
                "new": i.inserted,
                "updated": i.updated,
                "rejected": i.rejected,
            }
            for i in imports
        ],
        {
            "when": "Started",
            "file": "File",
            "source": "Source",
            "status": "Status",
            "read": columns.number("Rows read"),
            "accepted": columns.number("Accepted"),
            "new": columns.number("New"),
            "updated": columns.number("Updated"),
            "rejected": columns.number("Rejected"),
        },
        key="import-history",
    )
else:
    st.caption("No imports yet.")
