"""Import page: upload a file, map its columns if needed, see accepted and rejected rows."""

import streamlit as st

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
        st.error(str(exc))
        st.stop()
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
            st.info(str(exc))
    else:
        st.success(f"Recognised as: {preview.fmt.value.replace('_', ' ')}")
    source = st.text_input(
        "Source name (the id space of these rows)",
        value="boston" if preview.fmt is InputFormat.CITY_EXPORT else "",
        key="import-source",
        help="Rows are matched to earlier imports by this name and their id.",
    )
    ready = preview.fmt is not None or mapping is not None
    if st.button("Import", type="primary", disabled=not ready, key="import-run"):
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
            )
        except GeodispatchError as exc:
            bar.empty()
            st.error(str(exc))
            st.stop()
        bar.progress(1.0, text="Done")
        a, b, c, d = st.columns(4)
        a.metric("Rows read", f"{summary.rows_read:,}")
        b.metric(
            "Accepted",
            f"{summary.accepted:,}",
            help=f"{summary.inserted:,} new, {summary.updated:,} updated, "
            f"{summary.unchanged:,} unchanged",
        )
        c.metric("Rejected", f"{summary.rejected:,}")
        d.metric("Location unknown", f"{summary.location_unknown:,}")
        rows, total = rejected_rows(import_id=summary.import_id, limit=500)
        if total:
            st.subheader(f"Rejected rows ({total:,})")
            st.dataframe(
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
                hide_index=True,
                width="stretch",
                key="import-rejected",
            )

st.subheader("Recent imports")
imports = recent_imports(limit=15)
if imports:
    st.dataframe(
        [
            {
                "when": i.started_at,
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
        hide_index=True,
        width="stretch",
    )
else:
    st.caption("No imports yet.")
