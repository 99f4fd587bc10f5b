"""What a password hash costs: argon2id at the deployment's cost, carried by the sessions.

The cost is three settings: ``PASSWORD_TIME_COST`` (passes over the memory),
``PASSWORD_MEMORY_KIB`` (the memory, in KiB) and ``PASSWORD_PARALLELISM`` (lanes); their
defaults are argon2-cffi's own (RFC 9106's low-memory profile). Every hash carries the cost
it was made with (``$argon2id$v=19$m=65536,t=3,p=4$...``) and is verified at that cost, so
a password hashed at another cost still logs in; :func:`kip.services.accounts.authenticate`
then hashes it again at the cost in force.

The app's sessions carry the deployment's cost (set by :class:`kip.db.Database`), as they
carry its range of dates (:mod:`kip.dates`), so the accounts service hashes at it without
knowing the app (:func:`hashing`); a session made outside an app (a script's) gets the
defaults. The tests lower the cost to the least argon2 allows, except the tests of hashing
itself.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from secrets import token_urlsafe
from typing import TYPE_CHECKING, Any

from argon2 import PasswordHasher
from argon2.exceptions import HashingError

from .config import DEFAULTS, ConfigError

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

# Where a session keeps the deployment's cost (see kip.db.Database).
SESSION_KEY = "kip.password_cost"
# The settings, in the order of PasswordCost's fields.
SETTINGS = ("PASSWORD_TIME_COST", "PASSWORD_MEMORY_KIB", "PASSWORD_PARALLELISM")


@dataclass(frozen=True)
class PasswordCost:
    """argon2id's parameters, as the ``PASSWORD_*`` settings give them."""

    time_cost: int
    memory_kib: int
    parallelism: int

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> PasswordCost:
        """The cost the settings name; a cost argon2 cannot hash at is refused here, when
        the app starts, not at the first login.

        >>> PasswordCost.from_config(DEFAULTS)
        PasswordCost(time_cost=3, memory_kib=65536, parallelism=4)
        >>> PasswordCost.from_config({**DEFAULTS, "PASSWORD_MEMORY_KIB": 4})
        Traceback (most recent call last):
        ...
        kip.config.ConfigError: KIP_PASSWORD_TIME_COST=3, KIP_PASSWORD_MEMORY_KIB=4, KIP_PASSWORD_PARALLELISM=4: argon2 cannot hash at that cost (Memory cost is too small); PASSWORD_MEMORY_KIB must be at least 8 times PASSWORD_PARALLELISM, and the other two at least 1
        """  # noqa: E501
        try:
            cost = cls(*(int(config[name]) for name in SETTINGS))
            _at(cost)
        except (TypeError, ValueError, OverflowError, HashingError) as error:
            given = ", ".join(f"KIP_{name}={config[name]!r}" for name in SETTINGS)
            raise ConfigError(
                f"{given}: argon2 cannot hash at that cost ({error}); "
                "PASSWORD_MEMORY_KIB must be at least 8 times PASSWORD_PARALLELISM, and the "
                "other two at least 1"
            ) from None
        return cost


@dataclass(frozen=True)
class Hashing:
    """A hasher at one cost, and a hash made by it to verify against when there is no
    account, so that an unknown address costs what a wrong password costs."""

    hasher: PasswordHasher
    dummy_hash: str


@cache
def _at(cost: PasswordCost) -> Hashing:
    hasher = PasswordHasher(
        time_cost=cost.time_cost, memory_cost=cost.memory_kib, parallelism=cost.parallelism
    )
    return Hashing(hasher, hasher.hash(token_urlsafe(16)))


# The settings' defaults: the cost of a session made outside an app.
DEFAULT = PasswordCost(*(int(DEFAULTS[name]) for name in SETTINGS))


def hashing(session: Session) -> Hashing:
    """Hashing at the deployment's cost, as the app's sessions carry it; a session made
    outside an app hashes at the defaults."""
    return _at(session.info.get(SESSION_KEY, DEFAULT))
