import re
import threading
from datetime import timedelta

import pyotp
import pytest
from sqlalchemy import select

from kpiapp.auth.passwords import verify_password
from kpiapp.extensions import db
from kpiapp.models import AuditEvent, Role
from tests.conftest import PG_URL
from tests.factories import PASSWORD, UserFactory
from tests.helpers import csrf_from, csrf_token, post_form, sends_to_login

pytestmark = pytest.mark.rollback  # one transaction per test, rolled back (tests/conftest.py)


def events(action):
    query = select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.seq)
    return db.session.execute(query).scalars().all()


def try_login(client, email, password):
    return client.post("/login", data={"email": email, "password": password, "csrf_token": csrf_token(client)})


def test_login_with_right_password_starts_a_new_session(app, client):
    user = UserFactory()
    client.get("/login")
    before = client.get_cookie("kpiapp")
    response = try_login(client, user.email, PASSWORD)
    assert response.status_code == 302 and response.headers["Location"] == "/"
    assert client.get_cookie("kpiapp").value != (before.value if before else None)
    assert client.get("/").status_code == 200
    assert [e.actor for e in events("auth.login")] == [user.email]


def test_wrong_password_is_refused_and_logged(client):
    user = UserFactory()
    response = try_login(client, user.email, "wrong password here")
    assert "E-mail or password is wrong." in response.get_data(as_text=True)
    assert sends_to_login(client.get("/"))
    failed = events("auth.login_failed")
    assert len(failed) == 1 and failed[0].entity_id == str(user.id)
    assert PASSWORD not in (failed[0].after_json or "") and "wrong password" not in (failed[0].after_json or "")


def page_without(response, *values):
    """The page with what differs between two sign-in attempts (typed e-mail, CSRF token) taken out."""
    page = response.get_data(as_text=True)
    for value in (csrf_from(page), *values):
        page = page.replace(value, "")
    return page


def test_account_locks_after_repeated_failures(app, client):
    user = UserFactory()
    for _ in range(app.config["LOGIN_MAX_FAILURES"]):
        try_login(client, user.email, "nope nope nope")
    response = try_login(client, user.email, PASSWORD)
    assert "E-mail or password is wrong." in response.get_data(as_text=True)
    assert sends_to_login(client.get("/"))
    db.session.refresh(user)
    assert user.locked_until is not None
    assert [e.after_json for e in events("auth.login_failed")][-1] == '{"reason":"locked"}'


def test_a_locked_account_looks_like_an_unknown_email(app, client):
    user = UserFactory()
    for _ in range(app.config["LOGIN_MAX_FAILURES"]):
        try_login(client, user.email, "nope nope nope")
    locked = try_login(client, user.email, PASSWORD)
    unknown = try_login(client, "nobody@example.com", PASSWORD)
    assert locked.status_code == unknown.status_code == 200
    assert page_without(locked, user.email) == page_without(unknown, "nobody@example.com")
    assert "locked" not in locked.get_data(as_text=True)


@pytest.mark.parametrize("app_config", [{"LOGIN_MAX_FAILURES_PER_IP": 3}])
def test_address_is_throttled_after_many_failures(client):
    users = UserFactory.create_batch(3)
    for user in users:
        try_login(client, user.email, "nope nope nope")
    fresh = UserFactory()
    response = try_login(client, fresh.email, PASSWORD)
    assert "Too many failed attempts from your network" in response.get_data(as_text=True)


def test_unknown_email_gives_the_same_message(client):
    response = try_login(client, "nobody@example.com", "whatever password")
    assert "E-mail or password is wrong." in response.get_data(as_text=True)


@pytest.mark.parametrize("target, expected", [
    ("/org/people", "/org/people"),
    ("//evil.example.com/x", "/"),
    ("https://evil.example.com/", "/"),
    ("/\\evil.example.com", "/"),
])
def test_next_parameter_only_accepts_local_paths(client, target, expected):
    user = UserFactory(role=Role.hr)
    token = csrf_token(client)
    response = client.post("/login", data={"email": user.email, "password": PASSWORD, "next": target,
                                           "csrf_token": token})
    assert response.headers["Location"] == expected


CONTROL_TARGETS = ["/x\r\nSet-Cookie: a=b", "/org/people\n", "/\t/evil.example.com", "/x\x00", "/x\x7f",
                   "/x\x85", "/x\u2028y"]


@pytest.mark.parametrize("target", CONTROL_TARGETS)
def test_next_with_control_characters_is_dropped(client, target):
    user = UserFactory()
    response = client.post("/login", data={"email": user.email, "password": PASSWORD, "next": target,
                                           "csrf_token": csrf_token(client)})
    assert response.status_code == 302 and response.headers["Location"] == "/"


@pytest.mark.parametrize("target", CONTROL_TARGETS)
def test_language_back_with_control_characters_is_dropped(client, target):
    token = csrf_token(client)
    response = client.post("/language", data={"locale": "zh_CN", "back": target, "csrf_token": token})
    assert response.status_code == 302 and response.headers["Location"] == "/"


def test_login_redirect_drops_a_path_with_control_characters(client):
    response = client.get("/org/people?q=%0d%0aX:%20y")
    assert response.status_code == 302
    assert response.headers["Location"] == "/login?next=/org/people?q%3D%250d%250aX:%2520y"
    assert client.get("/login?next=/x%0d%0ay").status_code == 200


def replay(app, cookies):
    other = app.test_client()
    for cookie in cookies:
        other.set_cookie(cookie.key, cookie.value)
    return other.get("/")


def session_cookies(client):
    return [c for c in (client.get_cookie("kpiapp"), client.get_cookie("kpiapp-remember")) if c]


def remember_login(client, user):
    return client.post("/login", data={"email": user.email, "password": PASSWORD, "remember": "y",
                                       "csrf_token": csrf_token(client)})


def assert_replay_refused(app, stolen, figures):
    refused = sends_to_login(replay(app, stolen))
    assert refused
    figures.tally("Session and remember-me cookies replayed (logout, password, disable, end sessions)",
                  replays=1, refused=int(refused))


def test_copied_cookies_die_on_logout(app, client, figures):
    user = UserFactory()
    remember_login(client, user)
    stolen = session_cookies(client)
    assert len(stolen) == 2 and replay(app, stolen).status_code == 200
    post_form(client, "/logout")
    assert_replay_refused(app, stolen, figures)


def test_copied_cookies_die_on_password_change(app, client, figures):
    user = UserFactory()
    remember_login(client, user)
    stolen = session_cookies(client)
    response = post_form(client, "/account/password", {"current": PASSWORD, "new": "a brand new long phrase",
                                                       "confirm": "a brand new long phrase"})
    assert response.status_code == 302
    assert_replay_refused(app, stolen, figures)
    assert client.get("/").status_code == 200  # the device that changed it stays signed in


def test_copied_cookies_die_when_account_is_disabled(app, client, login, figures):
    user = UserFactory()
    remember_login(client, user)
    stolen = session_cookies(client)
    user.active = False
    user.rotate_session_token()
    db.session.commit()
    assert_replay_refused(app, stolen, figures)


def test_admin_can_end_someones_sessions(app, client, login, figures):
    user = UserFactory()
    remember_login(client, user)
    stolen = session_cookies(client)
    admin = login(UserFactory(role=Role.admin))
    assert post_form(admin, f"/admin/users/{user.id}/end-sessions").status_code == 302
    assert_replay_refused(app, stolen, figures)


@pytest.mark.parametrize("new, problem", [
    ("short", "at least 8"),
    ("password123", "common passwords"),
    ("x" * 129, "at most 128"),
])
def test_weak_passwords_are_refused(login, new, problem):
    user = UserFactory()
    client = login(user)
    response = post_form(client, "/account/password", {"current": PASSWORD, "new": new, "confirm": new})
    assert problem in response.get_data(as_text=True)


def test_passwords_are_stored_with_argon2id(app, login):
    """What the app stores when a password is set (test users' own hash is a cheap one, tests/factories.py)."""
    user = UserFactory()
    response = post_form(login(user), "/account/password", {"current": PASSWORD, "new": "a brand new long phrase",
                                                            "confirm": "a brand new long phrase"})
    assert response.status_code == 302
    db.session.refresh(user)
    assert user.password_hash.startswith("$argon2id$v=19$m=65536,t=3,p=4$")
    assert verify_password(user.password_hash, "a brand new long phrase")


def test_idle_session_expires(app, client):
    user = UserFactory()
    try_login(client, user.email, PASSWORD)
    with client.session_transaction() as session:
        session["seen_at"] -= app.config["SESSION_IDLE_TIMEOUT"].total_seconds() + 5
    assert sends_to_login(client.get("/"))


def test_absolute_session_limit(app, client):
    user = UserFactory()
    try_login(client, user.email, PASSWORD)
    with client.session_transaction() as session:
        session["login_at"] -= app.config["SESSION_ABSOLUTE_TIMEOUT"].total_seconds() + 5
    assert sends_to_login(client.get("/"))


# ---- two-factor ---------------------------------------------------------------------------------

def enrol(client):
    page = client.get("/account/two-factor").get_data(as_text=True)
    with client.session_transaction() as session:
        secret = session["enrol_secret"]
    assert "<svg" in page and secret in page
    response = post_form(client, "/account/two-factor", {"code": pyotp.TOTP(secret).now()},
                         page="/account/two-factor")
    assert response.status_code == 200
    codes = re.findall(r"<li><code>([0-9a-f]{8}-[0-9a-f]{8})</code></li>", response.get_data(as_text=True))
    return secret, codes


def test_totp_enrolment_then_sign_in_needs_a_code(app, login):
    user = UserFactory()
    secret, codes = enrol(login(user))
    assert len(codes) == 10
    client = app.test_client()
    response = try_login(client, user.email, PASSWORD)
    assert response.headers["Location"] == "/login/verify"
    assert sends_to_login(client.get("/"))  # password alone is not enough
    response = client.post("/login/verify", data={"code": "000000", "csrf_token": csrf_token(client, "/login/verify")})
    assert "not valid" in response.get_data(as_text=True)
    db.session.refresh(user)
    later = pyotp.TOTP(secret).at(user.totp_last_counter * 30 + 30)
    response = client.post("/login/verify", data={"code": later, "csrf_token": csrf_token(client, "/login/verify")})
    assert response.status_code == 302 and client.get("/").status_code == 200


def test_recovery_code_works_once(app, login):
    user = UserFactory()
    _secret, codes = enrol(login(user))
    for expected in (302, 200):
        client = app.test_client()
        try_login(client, user.email, PASSWORD)
        response = client.post("/login/verify", data={"code": codes[0],
                                                      "csrf_token": csrf_token(client, "/login/verify")})
        assert response.status_code == expected


@pytest.mark.parametrize("app_config", [{"MFA_REQUIRED_FOR_PRIVILEGED": True}])
@pytest.mark.parametrize("role, forced", [(Role.hr, True), (Role.admin, True), (Role.client, True),
                                          (Role.employee, False)])
def test_mandatory_two_factor_for_privileged_roles(login, role, forced):
    client = login(UserFactory(role=role))
    response = client.get("/")
    assert (response.status_code == 302 and response.headers["Location"] == "/account/two-factor") == forced


def test_used_totp_code_cannot_be_replayed(app, login):
    user = UserFactory()
    secret, _codes = enrol(login(user))
    db.session.refresh(user)
    used = pyotp.TOTP(secret).at(user.totp_last_counter * 30)
    client = app.test_client()
    try_login(client, user.email, PASSWORD)
    response = client.post("/login/verify", data={"code": used, "csrf_token": csrf_token(client, "/login/verify")})
    assert "not valid" in response.get_data(as_text=True)


def test_locked_until_is_timezone_aware(app):
    user = UserFactory()
    from datetime import datetime, timezone
    user.locked_until = datetime.now(timezone.utc) + timedelta(minutes=1)
    db.session.commit()
    db.session.expire_all()
    assert user.locked_until.tzinfo is not None


# ---- the second step: limits (issue 9) ----------------------------------------------------------

def send_code(client, code):
    return client.post("/login/verify", data={"code": code, "csrf_token": csrf_token(client)})


def next_code(user, secret):
    db.session.refresh(user)
    return pyotp.TOTP(secret).at(((user.totp_last_counter or 0) + 1) * 30)


def bad_codes(user):
    return [e for e in events("auth.login_failed")
            if e.entity_id == str(user.id) and e.after_json == '{"reason":"bad_code"}']


def pending_client(app, user):
    client = app.test_client()
    assert try_login(client, user.email, PASSWORD).headers["Location"] == "/login/verify"
    return client


def test_six_wrong_codes_then_the_right_one_is_refused(app, login):
    user = UserFactory()
    secret, _codes = enrol(login(user))
    client = pending_client(app, user)
    answers = [send_code(client, "000000") for _ in range(6)]
    assert [a.status_code for a in answers] == [200, 200, 200, 200, 302, 302]
    assert answers[4].headers["Location"] == "/login"
    assert send_code(client, next_code(user, secret)).headers["Location"] == "/login"
    assert sends_to_login(client.get("/"))
    assert len(bad_codes(user)) == 5
    db.session.refresh(user)
    assert user.locked_until is not None  # wrong codes count toward the account lock
    again = try_login(app.test_client(), user.email, PASSWORD)
    assert again.status_code == 200 and "E-mail or password is wrong." in again.get_data(as_text=True)


@pytest.mark.parametrize("app_config", [{"LOGIN_MAX_FAILURES": 100}])
def test_pending_sign_in_is_spent_after_five_codes_even_with_a_copied_cookie(app, login):
    user = UserFactory()
    secret, _codes = enrol(login(user))
    client = pending_client(app, user)
    saved = client.get_cookie("kpiapp")
    for _ in range(5):
        last = send_code(client, "000000")
    assert last.headers["Location"] == "/login"
    assert "Please sign in again" in client.get("/login").get_data(as_text=True)
    replayed = app.test_client()
    replayed.set_cookie(saved.key, saved.value)
    send_code(replayed, next_code(user, secret))
    assert sends_to_login(replayed.get("/")) and len(bad_codes(user)) == 5
    db.session.refresh(user)
    assert user.locked_until is None
    fresh = pending_client(app, user)  # a new password sign-in starts a new count
    assert send_code(fresh, next_code(user, secret)).headers["Location"] == "/"


@pytest.mark.parametrize("app_config", [{"LOGIN_MAX_FAILURES": 100}])
def test_recovery_codes_count_against_the_same_limit(app, login):
    user = UserFactory()
    _secret, codes = enrol(login(user))
    client = pending_client(app, user)
    for guess in ("0000-0000", "1234abcd-1234abcd", "000000", "ffffffff-ffffffff", "111111"):
        send_code(client, guess)
    send_code(client, codes[0])
    assert sends_to_login(client.get("/"))
    db.session.refresh(user)
    assert len(user.recovery_codes) == 10  # the refused recovery code was not used up


def test_pending_sign_in_expires_after_five_minutes(app, login):
    user = UserFactory()
    secret, _codes = enrol(login(user))
    client = pending_client(app, user)
    with client.session_transaction() as session:
        session["pending_at"] -= 5 * 60 + 1
    assert send_code(client, next_code(user, secret)).headers["Location"] == "/login"
    assert sends_to_login(client.get("/"))


def test_second_step_is_refused_while_the_account_is_locked(app, login):
    user = UserFactory()
    secret, _codes = enrol(login(user))
    client = pending_client(app, user)
    for _ in range(app.config["LOGIN_MAX_FAILURES"]):  # someone else keeps guessing the password
        try_login(app.test_client(), user.email, "nope nope nope")
    assert send_code(client, next_code(user, secret)).headers["Location"] == "/login"
    assert sends_to_login(client.get("/"))


@pytest.mark.parametrize("app_config", [{"LOGIN_MAX_FAILURES_PER_IP": 3}])
def test_second_step_is_throttled_per_address(app, login):
    user = UserFactory()
    secret, _codes = enrol(login(user))
    client = pending_client(app, user)
    for other in UserFactory.create_batch(3):
        try_login(app.test_client(), other.email, "nope nope nope")
    response = send_code(client, next_code(user, secret))
    assert response.headers["Location"] == "/login" and sends_to_login(client.get("/"))
    assert "Too many failed attempts from your network" in client.get("/login").get_data(as_text=True)


def test_a_right_password_does_not_reset_the_count_of_wrong_codes(app, login):
    user = UserFactory()
    _secret, _codes = enrol(login(user))
    client = pending_client(app, user)
    for _ in range(4):
        send_code(client, "000000")
    send_code(pending_client(app, user), "000000")  # the fifth failure locks, password or not in between
    db.session.refresh(user)
    assert user.locked_until is not None


def disable_two_factor(client, code):
    return post_form(client, "/account/two-factor/disable", {"code": code}, page="/account/two-factor")


def test_two_factor_is_turned_off_with_a_right_code(app, login):
    user = UserFactory()
    client = login(user)
    secret, _codes = enrol(client)
    assert disable_two_factor(client, "000001").status_code == 302
    assert disable_two_factor(client, next_code(user, secret)).headers["Location"] == "/account/two-factor"
    db.session.refresh(user)
    assert not user.totp_enabled and len(bad_codes(user)) == 1


def test_turning_two_factor_off_cannot_be_guessed(app, login):
    user = UserFactory()
    client = login(user)
    secret, _codes = enrol(client)
    for _ in range(app.config["LOGIN_MAX_FAILURES"]):
        disable_two_factor(client, "12345")
    disable_two_factor(client, next_code(user, secret))
    page = client.get("/account/two-factor").get_data(as_text=True)
    assert "Too many wrong codes. Try again later." in page
    db.session.refresh(user)
    assert user.totp_enabled and user.locked_until is not None and len(bad_codes(user)) == 5


@pytest.mark.skipif(not PG_URL, reason="PostgreSQL only: SQLite serialises writers")
@pytest.mark.rollback(False)  # 20 threads, 20 connections: a database of its own
@pytest.mark.parametrize("app_config", [{"SQLALCHEMY_ENGINE_OPTIONS": {"pool_size": 25}}])
def test_twenty_parallel_codes_count_as_twenty_attempts(app, login):
    user = UserFactory()
    enrol(login(user))
    client = pending_client(app, user)
    token = csrf_token(client)  # first: it puts the CSRF secret into the session cookie
    cookie = client.get_cookie("kpiapp")
    barrier, statuses = threading.Barrier(20), []

    def guess():
        copy = app.test_client()
        copy.set_cookie(cookie.key, cookie.value)
        with app.app_context():
            barrier.wait(timeout=30)
            response = copy.post("/login/verify", data={"code": "12345", "csrf_token": token})
            statuses.append(response.status_code)

    threads = [threading.Thread(target=guess) for _ in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert len(statuses) == 20 and set(statuses) <= {200, 302}
    assert len(bad_codes(user)) == 5  # the other 15 were refused without looking at the code
    db.session.refresh(user)
    assert user.locked_until is not None and user.failed_logins == 0
