"""Staff pages need a signed-in account; each role sees its pages and may take its actions.

Runs the real app (AppTest) on a real SQLite database; the accounts are made through the
accounts service and signed in as the sign-in page does.
"""

from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

from geodispatch.config import Settings
from geodispatch.domain.accounts import PAGES, Page, Role, StaffUser
from geodispatch.domain.errors import PermissionDeniedError
from geodispatch.services import accounts, api_keys
from tests.app.conftest import open_app
from tests.app.signin import PASSWORD, sign_in_as, staff_account
from tests.conftest import ROOT

#: Each staff page's file.
FILES = {
    Page.PLAN: "app_pages/plan.py",
    Page.JOBS: "app_pages/jobs.py",
    Page.WORK: "app_pages/work.py",
    Page.OVERVIEW: "app_pages/overview.py",
    Page.IMPORT: "app_pages/intake.py",
    Page.CATALOGUE: "app_pages/catalogue.py",
    Page.HOTSPOTS: "app_pages/hotspots.py",
    Page.PERFORMANCE: "app_pages/performance.py",
    Page.ACCOUNTABILITY: "app_pages/accountability.py",
    Page.COUNCIL: "app_pages/council.py",
    Page.ADMIN: "app_pages/admin.py",
    Page.CALL_TAKER: "app_pages/call_taker.py",
}
PUBLIC_FILES = {
    "app_pages/public.py",
    "app_pages/report.py",
    "app_pages/track.py",
    "app_pages/public_map.py",
    "app_pages/crew.py",
    "app_pages/sign_in.py",
}


def reachable(app: AppTest, path: str) -> bool:
    """True when the app's navigation offers the page (AppTest refuses unknown pages)."""
    try:
        app.switch_page(path)
    except ValueError:
        return False
    return True


def fresh_app() -> AppTest:
    return AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)


def test_anonymous_visitors_get_the_public_crew_and_sign_in_pages_only(
    env_settings: Settings,
) -> None:
    app = fresh_app()
    app.run()
    assert app.title[0].value == "Open requests & response times"
    assert {p for p in [*FILES.values(), *PUBLIC_FILES] if reachable(app, p)} == PUBLIC_FILES
    assert not app.sidebar.button  # nobody to sign out


@pytest.mark.parametrize("page", list(Page))
def test_every_staff_page_refuses_an_anonymous_session_on_its_own(
    env_settings: Settings, page: Page
) -> None:
    """Even run outside the navigation, a staff page stops before showing anything."""
    app = AppTest.from_file(str(ROOT / FILES[page]), default_timeout=120)
    app.run()
    assert not app.exception
    assert not app.title  # stopped before its title
    assert "sign in" in app.warning[0].value


@pytest.mark.parametrize("role", list(Role))
def test_each_role_sees_exactly_its_pages(env_settings: Settings, role: Role) -> None:
    app = fresh_app()
    sign_in_as(app, role)
    app.run()
    assert not app.exception
    offered = {page for page, path in FILES.items() if reachable(app, path)}
    assert offered == PAGES[role]
    assert reachable(app, "app_pages/public.py")
    assert not reachable(app, "app_pages/sign_in.py")


def test_a_page_opened_by_a_role_it_is_not_for_stops(env_settings: Settings) -> None:
    app = AppTest.from_file(str(ROOT / FILES[Page.ADMIN]), default_timeout=120)
    sign_in_as(app, Role.DISPATCHER)
    app.run()
    assert not app.title
    assert "does not have this page" in app.warning[0].value


def test_staff_sign_in_and_out_through_the_form(env_settings: Settings) -> None:
    staff_account(Role.MANAGER)
    app = fresh_app()
    app.run()
    app.switch_page("app_pages/sign_in.py").run()
    app.text_input(key="staff-username").input("manager-test")
    app.text_input(key="staff-password").input("wrong password here")
    app.button[0].click().run()
    assert app.error[0].value.startswith("sign\\-in refused")
    assert app.title[0].value == "Staff sign in"

    app.text_input(key="staff-username").input("manager-test")
    app.text_input(key="staff-password").input(PASSWORD)
    app.button[0].click().run()
    assert not app.exception
    assert app.title[0].value == "Hotspots"  # a manager lands on the hotspot page
    assert "Test manager" in app.sidebar.markdown[0].value

    app.sidebar.button(key="staff-sign-out").click().run()
    assert app.title[0].value in {"Staff sign in", "Open requests & response times"}
    assert not reachable(app, FILES[Page.HOTSPOTS])


def test_a_session_ended_elsewhere_signs_the_browser_out(env_settings: Settings) -> None:
    app = fresh_app()
    sign_in_as(app, Role.SUPERVISOR)
    app.run()
    assert reachable(app, FILES[Page.PLAN])
    accounts.set_disabled("supervisor-test", disabled=True)
    app.run()
    assert not reachable(app, FILES[Page.PLAN])


def test_demo_mode_shows_the_demo_accounts_on_the_sign_in_page(
    env_settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    app = open_app("Public", "app_pages/sign_in.py")
    assert not any("demo-" in i.value for i in app.info)  # no passwords shown
    assert "geodispatch users add" in app.info[0].value  # how to make the first admin
    monkeypatch.setenv("GEODISPATCH_DEMO_MODE", "true")
    from geodispatch.config import get_settings

    get_settings.cache_clear()
    app = open_app("Public", "app_pages/sign_in.py")
    shown = " ".join(i.value for i in app.info)
    assert all(d.password in shown for d in accounts.DEMO_ACCOUNTS)


def test_an_admin_creates_a_council_account_and_disables_it_on_the_accounts_page(
    env_settings: Settings,
) -> None:
    app = open_app("Admin")
    assert app.title[0].value == "Accounts"
    app.text_input(key="admin-new-username").input("wu")
    app.text_input(key="admin-new-name").input("Councillor Wu")
    app.selectbox(key="admin-new-role").set_value(Role.COUNCIL)
    app.multiselect(key="admin-new-wards").set_value([3, 8])
    app.text_input(key="admin-new-password").input("council passphrase")
    next(b for b in app.button if b.label == "Create account").click().run()
    assert not app.exception
    assert not app.error, [e.value for e in app.error]
    made = next(a for a in accounts.list_users() if a.username == "wu")
    assert (made.role, made.wards, made.display_name) == (Role.COUNCIL, (3, 8), "Councillor Wu")
    assert accounts.sign_in("wu", "council passphrase").user.wards == (3, 8)

    app.selectbox(key="admin-pick").set_value("wu").run()
    app.button(key="admin-disable").click().run()
    assert next(a for a in accounts.list_users() if a.username == "wu").disabled


def test_an_admin_makes_an_open311_key_shown_once_and_revokes_it(env_settings: Settings) -> None:
    app = open_app("Admin")
    app.text_input(key="admin-key-client").input("BOS:311 app")
    app.text_input(key="admin-key-contact").input("apps@boston.example")
    next(b for b in app.button if b.label == "Make a key").click().run()
    assert not app.exception
    assert not app.error, [e.value for e in app.error]
    secret = app.code[0].value
    assert api_keys.check_key(secret) == "BOS:311 app"  # the key shown works, once made
    made = next(k for k in api_keys.list_keys() if k.name == "BOS:311 app")
    assert secret not in str(made)  # only a hash and a prefix are kept
    app.selectbox(key="admin-key-revoke").set_value(made.id)
    next(b for b in app.button if b.label == "Revoke").click().run()
    assert not app.exception
    assert api_keys.check_key(secret) is None


def test_only_an_admin_may_manage_api_keys(env_settings: Settings) -> None:
    with pytest.raises(PermissionDeniedError):
        api_keys.create_key("partner", by=StaffUser("mo", "Mo", Role.MANAGER))


#: An ``[auth]`` section as ``.streamlit/secrets.toml`` would hold it (st.login, OIDC).
AUTH = {
    "auth": {
        "redirect_uri": "http://localhost:8501/oauth2callback",
        "cookie_secret": "test cookie secret",
        "client_id": "geodispatch",
        "client_secret": "test client secret",
        "server_metadata_url": "https://idp.city.example/.well-known/openid-configuration",
    }
}


def sso_app(email: str) -> AppTest:
    """The app for someone the city's identity provider signed in with ``email``."""
    app = fresh_app()
    app.secrets = AUTH
    app.user = {"email": email, "is_logged_in": True}
    app.run()
    assert not app.exception, [e.value for e in app.exception]
    return app


def test_single_sign_on_maps_the_email_to_the_accounts_role(env_settings: Settings) -> None:
    accounts.create_user("bo", Role.SUPERVISOR, email="bo@city.gov", display_name="Bo")
    app = sso_app("Bo@City.gov")
    assert app.title[0].value == "Plan today"
    assert reachable(app, FILES[Page.CATALOGUE])
    assert not reachable(app, FILES[Page.ADMIN])  # the role is the account's, not the IdP's


def test_single_sign_on_without_an_account_gets_no_staff_pages(env_settings: Settings) -> None:
    app = sso_app("stranger@example.org")
    assert {p for p in FILES.values() if reachable(app, p)} == set()
    app.switch_page("app_pages/sign_in.py").run()
    assert "has no staff account here" in app.error[0].value
    assert any(b.label == "Sign out of the city account" for b in app.button)
