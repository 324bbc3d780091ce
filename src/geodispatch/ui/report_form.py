"""The report form, shared by the public "Report a problem" page and the call-taker's page.

Phone first: one column, one question at a time. Type, place (an address geocoded offline
with its match shown, or a point), nearby open jobs of the same type to join, description,
up to three photos, optional contact with a privacy note. A hidden field catches bots.
"""

from __future__ import annotations

import streamlit as st

from geodispatch.config import get_settings
from geodispatch.domain.errors import InputError, NotFoundError, TooManyAttemptsError
from geodispatch.services import notify, report
from geodispatch.ui.widgets import md_escape

#: The hidden field people never see (the keyed element's class hides it); bots fill it.
HONEYPOT = "report-website"
PRIVACY = (
    "Your name, email and phone are optional and never published. The city uses them only "
    "to contact you about this report; an email also gets a message when it moves on, with "
    "a link to stop them."
)


def _place(code: str | None) -> tuple[float | None, float | None, str]:
    """The point of the report, from the address or the typed point; its address text."""
    address = st.text_input(
        "Address or nearest corner",
        max_chars=300,
        placeholder="e.g. 1 City Hall Sq, or Main St & Oak St",
        key="report-address",
    )
    lat = lon = None
    if address.strip():
        place = report.find_address(address)
        if place is None:
            st.warning("We could not find this address in the city; check it or give the point.")
        else:
            st.success(f"Found: {md_escape(place.matched)}")
            lat, lon = place.lat, place.lon
    with st.expander("Or give the point (from your phone's map)"):
        typed_lat = st.number_input(
            "Latitude", value=None, format="%.6f", step=0.0001, key="report-lat"
        )
        typed_lon = st.number_input(
            "Longitude", value=None, format="%.6f", step=0.0001, key="report-lon"
        )
    if typed_lat is not None and typed_lon is not None:
        lat, lon = float(typed_lat), float(typed_lon)
    return lat, lon, address


def _join(code: str | None, lat: float | None, lon: float | None) -> int | None:
    """Open jobs of the same type nearby, and the one the resident adds their report to."""
    if code is None or lat is None or lon is None:
        return None
    nearby = report.nearby_jobs(code, lat, lon)
    if not nearby:
        return None
    st.subheader("Is it one of these?")
    options: list[int | None] = [None, *(j.job_id for j in nearby)]
    words = {
        j.job_id: (
            f"Add my report to #{j.job_id}: {j.service_name}, {j.distance_m:.0f} m away, "
            f"{j.status.label}, {j.caller_count} report{'s' if j.caller_count != 1 else ''}"
        )
        for j in nearby
    }
    return st.radio(
        "Open reports of this problem nearby",
        options,
        format_func=lambda j: (
            "No, it is a different problem: new report" if j is None else words[j]
        ),
        key="report-join",
    )


def report_form(*, staff: bool, taken_by: str = "") -> None:
    """Draw the form; on a filed report, the receipt with its number and tracking link."""
    settings = get_settings()
    st.html(f"<style>.st-key-{HONEYPOT} {{display: none;}}</style>")
    filed = st.session_state.get("report-filed")
    if isinstance(filed, report.Filed):
        receipt(filed)
        if st.button("Report another problem", key="report-again"):
            del st.session_state["report-filed"]
            st.rerun()
        return
    types = report.public_types()
    if not types:
        st.info("No problem types are open for reports yet.")
        return
    code = st.selectbox(
        "What is the problem?",
        list(types),
        index=None,
        format_func=lambda c: types[c],
        placeholder="Type to search, e.g. pothole",
        key="report-type",
    )
    lat, lon, address = _place(code)
    join = _join(code, lat, lon)
    description = st.text_area(
        "What should the crew know?", max_chars=report.MAX_DESCRIPTION, key="report-description"
    )
    photos = st.file_uploader(
        "Photos (up to 3)",
        type=["jpg", "jpeg", "png", "webp"],
        accept_multiple_files=True,
        key="report-photos",
    )
    channel, on_behalf = "web", ""
    if staff:
        st.subheader("Caller")
        channel = st.selectbox(
            "Source", ["phone", "walk-in", "council office"], key="report-channel"
        )
        on_behalf = st.text_input(
            "On behalf of (e.g. a councillor's office)", max_chars=200, key="report-behalf"
        )
    else:
        st.subheader("Your contact (optional)")
        st.caption(PRIVACY)
    name = st.text_input("Name", max_chars=200, key="report-name")
    email = st.text_input("Email", max_chars=254, key="report-email")
    phone = st.text_input("Phone", max_chars=40, key="report-phone")
    trap = st.text_input("Website", key=HONEYPOT, label_visibility="collapsed")
    if not st.button("Send report", type="primary", key="report-send"):
        return
    if code is None:
        st.error("Choose the type of problem first.")
        return
    new = report.NewReport(
        service_code=code,
        lat=lat,
        lon=lon,
        address=address,
        description=description,
        photos=tuple(p.getvalue() for p in photos or ()),
        name=name,
        email=email,
        phone=phone,
        channel=channel,
        on_behalf_of=on_behalf,
        taken_by=taken_by,
        join_job=join,
        honeypot=trap,
    )
    try:
        st.session_state["report-filed"] = report.file_report(
            new, settings=settings, client=None if staff else _client_address()
        )
    except (InputError, NotFoundError, TooManyAttemptsError) as exc:
        st.error(str(exc))
        return
    st.rerun()


def _client_address() -> str:
    """The resident's address as Streamlit sees it, for the per-address report limit."""
    try:
        address = st.context.ip_address
    except (AttributeError, RuntimeError):  # no browser session (AppTest)
        address = None
    return f"app:{address or 'local'}"


def receipt(filed: report.Filed) -> None:
    """The result: the request number and the private tracking link."""
    settings = get_settings()
    st.success(f"Thank you. Your report is number {filed.request_id}.")
    if filed.joined:
        st.write(
            f"It was added to open job #{filed.job_id}: the crew knows one more person reported it."
        )
    link = notify.track_url(settings, filed.token)
    st.markdown(f"Follow it here: [{link}]({link})")
    st.caption("Keep this link: it shows your report's progress and the city's messages.")
