"""Sign an AppTest session in as a staff role, the way the sign-in page does.

The account (``<role>-test``, council scoped to ward 3 unless told otherwise) is made in
the database the app uses on first need; its session token goes into the session state
the app reads, as a signed-in browser session holds it.
"""

from __future__ import annotations

from collections.abc import Sequence

from streamlit.testing.v1 import AppTest

from geodispatch.config import get_settings
from geodispatch.domain.accounts import Role, StaffUser
from geodispatch.services import accounts
from geodispatch.ui.auth import TOKEN_KEY

PASSWORD = "a test passphrase"


def staff_account(role: Role | str, *, wards: Sequence[int] = (3,)) -> str:
    """The username of the test account of ``role`` (made now if missing)."""
    chosen = Role(role.lower()) if isinstance(role, str) else role
    username = f"{chosen.value}-test"
    if all(a.username != username for a in accounts.list_users()):
        accounts.create_user(
            username,
            chosen,
            password=PASSWORD,
            display_name=f"Test {chosen.label.lower()}",
            wards=wards if chosen is Role.COUNCIL else (),
        )
    return username


def sign_in_as(app: AppTest, role: Role | str, *, wards: Sequence[int] = (3,)) -> StaffUser:
    """Sign ``app``'s session in as the test account of ``role``; returns the account."""
    signed = accounts.sign_in(staff_account(role, wards=wards), PASSWORD, settings=get_settings())
    app.session_state[TOKEN_KEY] = signed.token
    return signed.user
