"""Who acts: the public, a person, a partner system's token, or KIP itself.

Services take an :class:`Actor` as an argument instead of reading request globals, so the
same service runs from a view, the CLI, a test or a worker. What an actor may see and do is
decided in :mod:`kip.policy`, from the facts held here.
"""

from __future__ import annotations

from dataclasses import dataclass

from .models.accounts import Role, TokenScope


@dataclass(frozen=True)
class Actor:
    """The facts about who is acting; ``label`` is what histories and audit records show."""

    label: str
    organisation_id: int | None = None
    role: Role | None = None
    user_id: int | None = None
    token_id: int | None = None
    scope: TokenScope | None = None
    is_system: bool = False

    @classmethod
    def system(cls, name: str) -> Actor:
        """KIP itself, on behalf of an operator's command (``system:demo``, ``system:cli``)."""
        return cls(label=f"system:{name}", is_system=True)

    @classmethod
    def public(cls) -> Actor:
        """Anyone, without an account: residents, press, emergency services."""
        return cls(label="public")

    @classmethod
    def for_user(cls, user_id: int, organisation_id: int, role: Role) -> Actor:
        return cls(
            label=f"user:{user_id}", organisation_id=organisation_id, role=role, user_id=user_id
        )

    @classmethod
    def for_token(cls, token_id: int, organisation_id: int, scope: TokenScope) -> Actor:
        return cls(
            label=f"token:{token_id}",
            organisation_id=organisation_id,
            token_id=token_id,
            scope=scope,
        )

    @property
    def is_public(self) -> bool:
        """Nobody in particular: no role (a person's), no token, not KIP itself."""
        return not self.is_system and self.role is None and self.token_id is None
