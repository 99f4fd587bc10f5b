"""Who acts: a person, a partner system's token, or KIP itself (a command, the demo loader).

Services take an :class:`Actor` as an argument instead of reading request globals, so the
same service runs from a view, the CLI, a test or a worker. The accounts issue adds users,
roles and tokens; the label written into histories stays the same shape.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Actor:
    label: str
    organisation_id: int | None = None

    @classmethod
    def system(cls, name: str) -> Actor:
        """KIP itself, on behalf of an operator's command (``system:demo``, ``system:cli``)."""
        return cls(label=f"system:{name}")
