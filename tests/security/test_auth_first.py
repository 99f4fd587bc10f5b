"""Issue 13, point 6: an anonymous or revoked caller of a write gets 401 before anything else.

Before the fix, the API parsed the body first (a bad body: 422 with the field errors) and
looked at the work before the caller (a missing If-Match: 428 with the work's current
version, a stale one: 412 with it), and a form POST without a login failed its CSRF check
(400) instead of sending the caller to log in. The whole route table is covered by
``tests/security/test_authorization_matrix.py``; these are the cases the issue names.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from conftest import log_in

from kip.actors import Actor
from kip.services import accounts

PATCH = {"properties": {"title": "Nieuwe titel"}}
BAD_BODY = {"type": "Feature", "geometry": "hier", "properties": {"start_date": "ooit"}}


@pytest.fixture
def work(make_work, make_org):
    """A public, planned work: anyone may read it, so its version is no secret from reading
    — but a stranger's write must not be where it is learnt either."""
    work = make_work(organisation=make_org("Gemeente Ede"), visibility="public")
    work.version  # noqa: B018  (loaded before the requests)
    return work


@pytest.fixture
def revoked(session, work):
    system = Actor.system("test")
    new = accounts.create_token(
        session, system, organisation=work.organisation, scope="write", name="oud"
    )
    accounts.revoke_token(session, system, new.token.id)
    return {"Authorization": f"Bearer {new.secret}"}


@pytest.fixture
def expired(session, work):
    new = accounts.create_token(
        session, Actor.system("test"), organisation=work.organisation, scope="write", name="oud"
    )
    new.token.expires_at = accounts.now() - timedelta(minutes=1)
    session.flush()
    return {"Authorization": f"Bearer {new.secret}"}


def _refused(response) -> None:
    assert response.status_code == 401, response.get_data(as_text=True)
    assert response.mimetype == "application/problem+json"
    assert response.json["code"] == "unauthorized"
    assert "current_version" not in response.json
    assert "errors" not in response.json
    assert '"v' not in response.get_data(as_text=True)
    assert "ETag" not in response.headers


def test_a_bad_body_from_an_anonymous_caller_is_401_not_422(client):
    _refused(client.post("/api/v1/works", json=BAD_BODY))


def test_a_bad_body_with_a_revoked_token_is_401_not_422(client, work, revoked):
    _refused(client.post("/api/v1/works", json=BAD_BODY, headers=revoked))
    _refused(client.patch(f"/api/v1/works/{work.id}", json=BAD_BODY, headers=revoked))


def test_malformed_json_from_an_anonymous_caller_is_401_not_400(client, work):
    response = client.patch(
        f"/api/v1/works/{work.id}", data=b'{"properties": ', content_type="application/json"
    )
    _refused(response)


def test_a_missing_if_match_does_not_tell_a_stranger_the_version(client, work, make_user):
    _refused(client.patch(f"/api/v1/works/{work.id}", json=PATCH))
    _refused(client.delete(f"/api/v1/works/{work.id}"))

    # The work's own planner is asked for the version they read, and told the current one.
    planner = make_user("planner", organisation=work.organisation)
    csrf = log_in(client, planner.email)
    own = client.patch(f"/api/v1/works/{work.id}", json=PATCH, headers={"X-CSRFToken": csrf})
    assert own.status_code == 428
    assert own.json["current_version"] == work.version


def test_a_stale_if_match_does_not_tell_a_stranger_the_version(client, work, revoked, expired):
    for headers in ({}, revoked, expired):
        stale = {**headers, "If-Match": f'"v{work.version + 5}"'}
        _refused(client.patch(f"/api/v1/works/{work.id}", json=PATCH, headers=stale))
        _refused(client.delete(f"/api/v1/works/{work.id}", headers=stale))


def test_a_stranger_learns_nothing_from_which_works_exist(client, make_work, work):
    hidden = make_work(organisation=work.organisation, visibility="confidential")
    missing = hidden.id + 1000
    answers = {
        work_id: client.delete(f"/api/v1/works/{work_id}", headers={"If-Match": '"v1"'})
        for work_id in (work.id, hidden.id, missing)
    }
    bodies = {response.get_data() for response in answers.values()}
    assert len(bodies) == 1
    for response in answers.values():
        _refused(response)


def test_a_form_post_without_a_login_goes_to_the_login_page_before_its_csrf_check(client, work):
    for path in ("/works/new", f"/works/{work.id}/edit", "/digbans/new", "/admin/users"):
        response = client.post(path, data={"title": "x" * 5000, "version": "99"})
        assert response.status_code == 302, path
        assert response.headers["Location"] == f"/login?next={path}"


def test_a_revoked_token_on_a_form_goes_to_the_login_page(client, work, revoked):
    path = f"/works/{work.id}/edit"
    response = client.post(path, data={"version": "99"}, headers=revoked)
    assert response.status_code == 302
    assert response.headers["Location"] == f"/login?next={path}"
