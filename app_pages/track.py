"""Public page: follow one report by its number or tracking link (no personal data shown)."""

import streamlit as st

from geodispatch.domain.errors import InputError, NotFoundError
from geodispatch.services.track import track
from geodispatch.ui.widgets import local, md_escape

st.title("Track a request")
st.caption("Only the report's progress is shown: no names, contact details or descriptions.")

given = str(st.query_params.get("request", ""))
ref = st.text_input(
    "Request number or tracking link",
    value=given,
    max_chars=300,
    placeholder="e.g. 101234, or paste the link from your confirmation",
    key="track-ref",
)
if not ref.strip():
    st.info("Enter the number you were given when you reported the problem.")
    st.stop()

try:
    report = track(ref)
except (InputError, NotFoundError) as exc:
    st.error(str(exc))
    st.stop()

st.subheader(f"Request #{report.id}: {md_escape(report.service_name)}")
st.write(report.words)
for step in report.steps:
    mark = ":material/check_circle:" if step.reached else ":material/radio_button_unchecked:"
    when = f" — {local(step.at, '%b %d, %H:%M')}" if step.at is not None else ""
    text = f"**{step.label}**" if step.current else step.label
    st.markdown(f"{mark} {text}{when}")

facts = [f"Reported {local(report.created_at, '%b %d, %Y')}"]
if report.expected_at is not None:
    facts.append(f"expected by {local(report.expected_at, '%b %d, %Y')}")
if report.closed_at is not None:
    facts.append(f"closed {local(report.closed_at, '%b %d, %Y')}")
if report.caller_count > 1:
    facts.append(f"{report.caller_count} residents reported this problem")
st.caption("; ".join(facts) + ".")

if report.notes:
    st.subheader("Messages from the city")
    for note in report.notes:
        st.text(f"{local(note.at, '%b %d, %H:%M')}: {note.text}")  # text: never markdown
