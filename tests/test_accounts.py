"""Accounts and tokens at the service level, on the real database."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import argon2
import pytest
from conftest import CHEAP_PASSWORDS, org_maker, session_on, user_maker
from sqlalchemy import select
from sqlalchemy.orm import Session

from kip import create_app, passwords
from kip.actors import Actor
from kip.config import ConfigError
from kip.db import database
from kip.errors import Conflict, Forbidden, NotFound, Unauthorized, ValidationError
from kip.models import AuditEvent, Role, TokenScope, User
from kip.services import accounts

PASSWORD = "correct horse battery"  # what conftest's make_user gives every account


@pytest.fixture
def production(database_url, connection) -> Iterator[Session]:
    """A session of an app with the default password cost - the production one - on the
    test's connection (every other test hashes at conftest's CHEAP_PASSWORDS)."""
    app = create_app({"DATABASE_URL": database_url, "SECRET_KEY": "x"})
    sess = session_on(app, connection)
    yield sess
    sess.close()
    database(app).dispose()


def cost_of(password_hash: str) -> tuple[int, int, int]:
    stored = argon2.extract_parameters(password_hash)
    return stored.time_cost, stored.memory_cost, stored.parallelism


# argon2-cffi's recommendation, which the settings' defaults follow.
RFC_9106 = argon2.profiles.RFC_9106_LOW_MEMORY
PRODUCTION_COST = (RFC_9106.time_cost, RFC_9106.memory_cost, RFC_9106.parallelism)


def test_passwords_are_stored_as_argon2id_at_the_production_cost(production):
    user = user_maker(production, org_maker(production))()
    assert user.password_hash.startswith("$argon2id$")
    assert PASSWORD not in user.password_hash
    assert cost_of(user.password_hash) == PRODUCTION_COST
    stored = user.password_hash
    assert accounts.authenticate(production, user.email, PASSWORD) == user
    assert user.password_hash == stored  # made at the cost in force: not made again
    # An unknown address is verified against a hash of the same cost as an account's.
    assert cost_of(passwords.hashing(production).dummy_hash) == PRODUCTION_COST
    # A session made outside an app (a script's) hashes at the defaults too.
    script = Session(bind=production.connection(), join_transaction_mode="create_savepoint")
    assert passwords.hashing(script) == passwords.hashing(production)


def test_the_app_hashes_at_the_cost_it_is_configured_with(session, make_user):
    user = make_user()
    cheap = tuple(CHEAP_PASSWORDS[name] for name in passwords.SETTINGS)
    assert cost_of(user.password_hash) == cheap != PRODUCTION_COST
    assert cost_of(passwords.hashing(session).dummy_hash) == cheap


def test_a_password_hashed_at_another_cost_logs_in_and_is_hashed_again(
    session, production, make_user
):
    """A changed cost: the old hash still verifies (it carries its cost), and the login
    makes it again at the cost in force, either way."""
    user = make_user()
    cheap = cost_of(user.password_hash)
    same = production.get(User, user.id)
    assert accounts.authenticate(production, user.email, PASSWORD) == same
    assert cost_of(same.password_hash) == PRODUCTION_COST
    production.commit()  # to the savepoint, for the test's other session to read
    session.refresh(user)
    assert accounts.authenticate(session, user.email, PASSWORD) == user
    assert cost_of(user.password_hash) == cheap
    assert accounts.authenticate(session, user.email, PASSWORD + "x") is None


@pytest.mark.parametrize(
    "setting",
    [{"PASSWORD_MEMORY_KIB": 4}, {"PASSWORD_TIME_COST": 0}, {"PASSWORD_PARALLELISM": "x"}],
)
def test_a_cost_argon2_cannot_hash_at_stops_the_app_at_start(database_url, setting):
    with pytest.raises(ConfigError, match="argon2 cannot hash at that cost"):
        create_app({"DATABASE_URL": database_url, "SECRET_KEY": "x", **setting})


def test_authenticate_right_and_wrong(session, make_user):
    user = make_user(email="Ada@Example.org")
    assert user.email == "ada@example.org"
    assert accounts.authenticate(session, "ADA@example.org ", PASSWORD) == user
    assert user.last_login_at is not None
    assert accounts.authenticate(session, "ada@example.org", PASSWORD + "x") is None
    assert accounts.authenticate(session, "nobody@example.org", PASSWORD) is None


def test_a_deactivated_user_cannot_log_in(session, make_user):
    user = make_user()
    user.active = False
    session.flush()
    assert accounts.authenticate(session, user.email, PASSWORD) is None


def test_only_administrators_create_accounts(session, make_org, make_user):
    org = make_org()
    planner = make_user("planner", organisation=org)
    actor = accounts.actor_for_user(planner)
    with pytest.raises(Forbidden):
        accounts.create_user(
            session,
            actor,
            email="x@example.org",
            name="X",
            organisation=org,
            role="planner",
            password=PASSWORD,
        )
    with pytest.raises(Unauthorized):
        accounts.create_user(
            session,
            Actor.public(),
            email="x@example.org",
            name="X",
            organisation=org,
            role="planner",
            password=PASSWORD,
        )


@pytest.mark.parametrize(
    ("password", "problem"),
    [("short", "at least 10"), ("aaaaaaaaaaaa", "different"), ("me@example.org", "e-mail")],
)
def test_weak_passwords_are_refused(session, make_org, password, problem):
    with pytest.raises(ValidationError) as caught:
        accounts.create_user(
            session,
            Actor.system("test"),
            email="me@example.org",
            name="Me",
            organisation=make_org(),
            role="planner",
            password=password,
        )
    assert problem in caught.value.message


def test_one_account_per_address_whatever_the_case(session, make_user):
    make_user(email="dup@example.org")
    with pytest.raises(Conflict):
        make_user(email="DUP@example.org")


def test_change_password_needs_the_current_one(session, make_user):
    user = make_user()
    actor = accounts.actor_for_user(user)
    with pytest.raises(ValidationError):
        accounts.change_password(session, actor, user, "not it at all", "a new good password")
    before = user.password_changed_at
    accounts.change_password(session, actor, user, PASSWORD, "a new good password")
    assert user.password_changed_at > before
    assert accounts.authenticate(session, user.email, "a new good password") == user
    assert accounts.authenticate(session, user.email, PASSWORD) is None


def test_reset_tokens_work_once_and_only_for_their_user(session, make_user):
    user = make_user()
    token = accounts.reset_token("secret", user)
    assert accounts.user_for_reset(session, "secret", token) == user
    with pytest.raises(ValidationError, match="not valid"):
        accounts.user_for_reset(session, "another secret", token)
    with pytest.raises(ValidationError, match="not valid"):
        accounts.user_for_reset(session, "secret", token[:-3] + "abc")
    accounts.reset_password(session, "secret", token, "brand new password")
    with pytest.raises(ValidationError, match="used"):
        accounts.reset_password(session, "secret", token, "another new password")


def test_tokens_are_shown_once_and_stored_hashed(session, make_org):
    org = make_org()
    new = accounts.create_token(
        session, Actor.system("test"), organisation=org, scope="read", name="GIS"
    )
    assert new.secret.startswith("kip_") and len(new.secret) > 40
    stored = session.execute(select(accounts.ApiToken.token_hash)).scalars().all()
    assert new.secret not in stored
    assert new.token.prefix == new.secret[:12]
    found = accounts.authenticate_token(session, new.secret)
    assert found is not None and found.id == new.token.id
    assert found.last_used_at is not None
    assert found.scope == TokenScope.READ


def test_expired_revoked_and_unknown_tokens_are_refused(session, make_org):
    org = make_org()
    system = Actor.system("test")
    expired = accounts.create_token(session, system, organisation=org, scope="write", name="a")
    expired.token.expires_at = accounts.now() - timedelta(seconds=1)
    revoked = accounts.create_token(session, system, organisation=org, scope="write", name="b")
    accounts.revoke_token(session, system, revoked.token.id)
    session.flush()
    assert accounts.authenticate_token(session, expired.secret) is None
    assert accounts.authenticate_token(session, revoked.secret) is None
    assert accounts.authenticate_token(session, "kip_" + "x" * 43) is None
    assert accounts.authenticate_token(session, "not even a kip token") is None
    with pytest.raises(NotFound):
        accounts.revoke_token(session, system, 999_999_999)


def test_every_account_write_is_audited(session, make_org):
    org = make_org()
    admin = accounts.create_user(
        session,
        Actor.system("test"),
        email="admin@example.org",
        name="Admin",
        organisation=org,
        role=Role.ADMINISTRATOR,
        password=PASSWORD,
    )
    actor = accounts.actor_for_user(admin)
    new = accounts.create_token(session, actor, organisation=org, scope="read", name="t")
    accounts.revoke_token(session, actor, new.token.id)
    session.flush()
    events = session.execute(
        select(AuditEvent.action, AuditEvent.actor, AuditEvent.object_id).order_by(AuditEvent.id)
    ).all()
    assert [e.action for e in events] == [
        "organisation.create",
        "user.create",
        "token.create",
        "token.revoke",
    ]
    assert events[2].actor == f"user:{admin.id}" and events[2].object_id == new.token.id


def test_users_belong_to_an_organisation(session, make_user):
    user = make_user("coordinator")
    assert session.get(User, user.id).organisation.name
    assert user.role is Role.COORDINATOR
