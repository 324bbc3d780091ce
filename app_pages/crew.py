"""My route (crew, phone first): sign in, today's stops in order, arrive / done / cannot do."""

import streamlit as st

from geodispatch.config import get_settings
from geodispatch.domain.errors import GeodispatchError, StaleVersionError
from geodispatch.domain.updates import StopStatus
from geodispatch.services import field
from geodispatch.ui.crew import (
    Position,
    StopView,
    crew_day,
    position_picker,
    sign_in_form,
    sign_out,
    signed_in_crew,
)
from geodispatch.ui.widgets import local, md_escape, now_local, show_error, show_map

# bigger touch targets for gloved hands in a truck
st.html(
    "<style>"
    ".stButton button, .stLinkButton a, .stFormSubmitButton button "
    "{min-height: 3rem; font-size: 1.05rem;}"
    "</style>"
)
ICONS = {  # Material Symbols ship with Streamlit: no emoji font needed on the phone
    StopStatus.PLANNED: ":material/radio_button_unchecked:",
    StopStatus.ARRIVED: ":orange[:material/pending:]",
    StopStatus.DONE: ":green[:material/check_circle:]",
    StopStatus.UNABLE: ":red[:material/block:]",
}
STATUS_TEXT = {
    StopStatus.PLANNED: "to do",
    StopStatus.ARRIVED: "on site",
    StopStatus.DONE: "done",
    StopStatus.UNABLE: "could not complete",
}


def when(stop: StopView) -> str:
    """The stop's ETA, marked late when it has passed, and urgent when dispatch said so."""
    text = local(stop.eta)
    late = field.late_minutes(stop, now)
    if late:
        text += f" :red[late {late} min]"
    if stop.urgent:
        text = f":red-background[URGENT] {text}"
    return text


st.title("My route")
crew = signed_in_crew()
if crew is None:
    st.caption("Sign in with your crew and PIN (your dispatcher gives you the PIN).")
    sign_in_form()
    st.stop()

day = crew_day(crew)
now = now_local()
st.markdown(f"**{md_escape(day.code)}** · {md_escape(day.name)} · {day.day:%a %d %b}")
if not day.stops:
    st.info(
        "No published route for you today yet. Dispatch publishes the day's plan; "
        "press Refresh in a few minutes."
    )
    if st.button("Refresh", key="crew-refresh", width="stretch"):
        st.rerun()
    if st.button("Sign out", key="crew-sign-out", width="stretch"):
        sign_out()
        st.rerun()
    st.stop()

total = len(day.stops)
st.progress(day.finished / total, text=f"{day.finished} of {total} stops finished")
view = st.segmented_control(
    "View", ["Next stop", "All stops", "Map"], default="Next stop", key="crew-view", width="stretch"
)

if view == "All stops":
    for s in day.stops:
        with st.container(border=True):
            st.markdown(
                f"**{s.sequence}. {ICONS[s.status]} {when(s)}** · "
                f"{md_escape(s.service_name)} · {STATUS_TEXT[s.status]}"
            )
            st.text(s.address)
elif view == "Map":
    show_map(field.crew_map_html(day), height=420)
    st.caption("Blue: next stop · grey: to do · orange: on site · green: done · red: could not")
else:
    open_stops = [s for s in day.stops if s.status in {StopStatus.PLANNED, StopStatus.ARRIVED}]
    if not open_stops:
        st.success("All stops finished for today. Thank you!")
    else:
        chosen = day.next_stop or open_stops[0]
        ids = [s.stop_id for s in open_stops]
        stop_id = st.selectbox(
            "Stop",
            ids,
            index=ids.index(chosen.stop_id),
            format_func=lambda i: next(
                f"{s.sequence}. {local(s.eta)} {'URGENT ' if s.urgent else ''}{s.service_name}"
                for s in open_stops
                if s.stop_id == i
            ),
            key="crew-stop",
            help="The next stop in route order; pick another if you must change the order.",
        )
        stop = next(s for s in open_stops if s.stop_id == stop_id)
        with st.container(border=True):
            st.subheader(f"{stop.sequence}. {md_escape(stop.service_name)}", anchor=False)
            st.markdown(f"ETA **{when(stop)}** · {ICONS[stop.status]} {STATUS_TEXT[stop.status]}")
            st.text(stop.address)
            st.caption(
                f"Job {stop.job_id} · P{stop.priority} · {stop.caller_count} caller(s)"
                + (f" · SLA due {local(stop.due_at, '%d %b %Y %H:%M')}" if stop.due_at else "")
            )
            links = field.stop_navigation(stop)
            if links:
                nav = st.columns(len(links))
                for column, (name, url) in zip(nav, links.items(), strict=True):
                    column.link_button(f"Navigate: {name}", url, width="stretch")
            else:
                st.warning("This job has no map point: call dispatch for directions.")

        arrived = stop.status is StopStatus.PLANNED and st.button(
            "Arrived", type="primary", key=f"crew-arrive-{stop.stop_id}", width="stretch"
        )

        def send(
            outcome: str,
            position: Position,
            note: str = "",
            photo: bytes | None = None,
        ) -> None:
            """Post one update for this stop with the chosen position; rerun on success."""
            try:
                lat, lon, source = position
                result = field.record_update(
                    crew,
                    stop.stop_id,
                    outcome,
                    expected_version=stop.version,
                    note=note,
                    lon=lon,
                    lat=lat,
                    photo=photo,
                    position_source=source,
                )
            except StaleVersionError:
                st.warning("This stop changed since your screen loaded (dispatch re-planned?).")
                if st.button("Reload my route", key="crew-reload", width="stretch"):
                    st.rerun()
                return
            except GeodispatchError as exc:
                show_error(exc)
                return
            flags = f" (flagged for review: {', '.join(result.flags)})" if result.flags else ""
            st.toast(f"Stop {stop.sequence}: {result.stop_status.value}{flags}")
            st.rerun()

        st.markdown("**Where are you?**")
        position = position_picker(stop)

        if arrived:
            send("arrive", position)

        outcome = st.segmented_control(
            "Report",
            ["done", "unable"],
            format_func={"done": "Work done", "unable": "Cannot complete"}.get,
            default="done",
            key=f"crew-outcome-{stop.stop_id}",
            width="stretch",
        )
        note = st.text_area(
            "Note" + (" (required: why not?)" if outcome == "unable" else ""),
            key=f"crew-note-{stop.stop_id}",
            max_chars=2000,
            height=90,
            placeholder="what was done, or what is in the way",
        )
        photo_file = st.file_uploader(
            "Photo (take one or pick from the phone)",
            type=["jpg", "jpeg", "png", "webp"],
            key=f"crew-photo-{stop.stop_id}",
            max_upload_size=max(1, get_settings().photo_max_bytes // 1_000_000),
        )
        use_camera = st.toggle("Use the camera here instead", key=f"crew-cam-on-{stop.stop_id}")
        shot = st.camera_input("Photo", key=f"crew-camera-{stop.stop_id}") if use_camera else None
        chosen_photo = shot or photo_file
        label = "Submit: work done" if outcome == "done" else "Submit: cannot complete"
        if st.button(label, type="primary", key=f"crew-submit-{stop.stop_id}", width="stretch"):
            if outcome == "unable" and not note.strip():
                st.warning("Say why the work cannot be completed; dispatch re-plans it.")
            else:
                photo = chosen_photo.getvalue() if chosen_photo else None
                send(outcome or "done", position, note, photo)

st.divider()
left, right = st.columns(2)
if left.button("Refresh", key="crew-refresh", width="stretch"):
    st.rerun()
if right.button("Sign out", key="crew-sign-out", width="stretch"):
    sign_out()
    st.rerun()
