"""An import report for a reader: consecutive rows with the same outcome together."""

from __future__ import annotations

from kip.services.imports import row_runs


def row(n: int, action: str = "create", **kw) -> dict:
    return {"row": n, "external_ref": f"R-{n}", "action": action, **kw}


def test_runs_of_the_same_outcome() -> None:
    problem = [{"field": "geometry", "message": "outside the region"}]
    rows = [
        row(1),
        row(2),
        row(3, "update", changed=["title"]),
        row(4, "update", changed=["title"]),
        row(5, "update", changed=["title", "geometry"]),
        row(6, "error", problems=problem),
        row(7, "error", problems=problem),
        row(8, "error", problems=[{"field": "end_date", "message": "missing"}]),
        row(9),
    ]

    runs = row_runs(rows)

    assert [(r["row"], r["last_row"], r["count"], r["action"]) for r in runs] == [
        (1, 2, 2, "create"),
        (3, 4, 2, "update"),
        (5, 5, 1, "update"),
        (6, 7, 2, "error"),
        (8, 8, 1, "error"),
        (9, 9, 1, "create"),
    ]
    assert (runs[0]["external_ref"], runs[0]["last_ref"]) == ("R-1", "R-2")
    assert runs[3]["problems"] == problem
    assert sum(r["count"] for r in runs) == len(rows)  # every row accounted for
    assert row_runs([]) == []
