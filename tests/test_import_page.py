"""The upload page: a planner imports a file and reads the report row by row."""

from __future__ import annotations

import io
import json
import re

CSRF = re.compile(r'name="csrf_token"[^>]*?value="([^"]+)"')


def plan(*rows: tuple[str, str]) -> bytes:
    return json.dumps(
        {
            "type": "FeatureCollection",
            "features": [
                {
                    "type": "Feature",
                    "geometry": {"type": "Point", "coordinates": [5.66, 52.04]},
                    "properties": {
                        "kenmerk": ref,
                        "titel": "Lantaarnpaal",
                        "vakdiscipline": "verlichting",
                        "fase": "gepland",
                        "startdatum": "2027-05-01",
                        "einddatum": end,
                    },
                }
                for ref, end in rows
            ],
        }
    ).encode()


def login(client, user, password) -> str:
    token = CSRF.search(client.get("/login").get_data(as_text=True)).group(1)
    client.post("/login", data={"email": user.email, "password": password, "csrf_token": token})
    return CSRF.search(client.get("/works/import").get_data(as_text=True)).group(1)


def test_a_planner_imports_through_the_page(client, make_user, password):
    token = login(client, make_user("planner"), password)
    data = {
        "csrf_token": token,
        "dry_run": "y",
        "file": (io.BytesIO(plan(("L-1", "2027-05-02"), ("L-2", "2027-05-03"))), "p.geojson"),
    }
    dry = client.post("/works/import", data=data, content_type="multipart/form-data")
    page = dry.get_data(as_text=True)
    assert dry.status_code == 200 and "L-1" in page and "L-2" in page
    data = {
        "csrf_token": token,
        "file": (io.BytesIO(plan(("L-1", "2027-05-02"), ("L-2", "2027-05-03"))), "p.geojson"),
    }
    real = client.post("/works/import", data=data, content_type="multipart/form-data")
    assert real.status_code == 200
    assert "Geïmporteerd" in real.get_data(as_text=True)


def test_problems_are_shown_per_row_and_nothing_is_saved(client, make_user, password):
    token = login(client, make_user("planner"), password)
    data = {
        "csrf_token": token,
        "file": (io.BytesIO(plan(("L-1", "2027-05-02"), ("L-2", "2020-01-01"))), "p.geojson"),
    }
    response = client.post("/works/import", data=data, content_type="multipart/form-data")
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert 'class="has-error"' in page and "L-2" in page


def test_the_page_needs_a_login(client):
    assert client.get("/works/import").status_code == 302


def test_anyone_can_download_what_they_may_see(client, make_work):
    make_work(visibility="public", title="Zichtbaar")
    make_work(visibility="partners", title="Niet voor iedereen")
    body = client.get("/works/export?format=geojson").get_data(as_text=True)
    assert "Zichtbaar" in body and "Niet voor iedereen" not in body
    assert client.get("/works/export?format=doc").status_code == 422


def test_rows_with_the_same_outcome_read_as_one_line(client, make_user, password):
    """A large file's report is a few lines - consecutive rows with the same outcome
    together - with every row with a problem on a line of its own."""
    token = login(client, make_user("planner"), password)
    rows = [(f"L-{i}", "2027-05-02") for i in range(1, 41)]
    rows[19] = ("L-20", "2020-01-01")  # ends before it starts
    data = {
        "csrf_token": token,
        "dry_run": "y",
        "file": (io.BytesIO(plan(*rows)), "p.geojson"),
    }
    page = client.post("/works/import", data=data, content_type="multipart/form-data")
    body = page.get_data(as_text=True)

    assert page.status_code == 200
    table = body[body.index("<tbody>") : body.index("</tbody>")]
    assert table.count("<tr") == 3
    assert "1–19" in table and "(19 rijen)" in table and "L-1 … L-19" in table
    assert "21–40" in table and "L-21 … L-40" in table
    assert 'class="has-error"' in table and "L-20" in table and "is before the start" in table
    assert "nieuw" in table  # the outcome in the reader's language, not the code


def test_the_works_no_longer_in_the_file_are_listed(client, make_user, password):
    token = login(client, make_user("planner"), password)
    three = plan(("L-1", "2027-05-02"), ("L-2", "2027-05-03"), ("L-3", "2027-05-04"))
    data = {"csrf_token": token, "file": (io.BytesIO(three), "p.geojson")}
    assert client.post("/works/import", data=data).status_code == 200

    two = plan(("L-1", "2027-05-02"), ("L-2", "2027-05-03"))
    data = {"csrf_token": token, "dry_run": "y", "file": (io.BytesIO(two), "p.geojson")}
    body = client.post("/works/import", data=data).get_data(as_text=True)

    missing = body[body.index("<details") : body.index("</details>")]
    assert "L-3" in missing and "Lantaarnpaal" in missing and 'href="/works/' in missing
