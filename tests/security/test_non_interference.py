"""Non-interference: what a viewer is shown is the same, field by field, whether or not the
works that viewer may not see exist.

For each generated town (seeded random: organisations, works of every kind, phase and
visibility, dig bans, drafts) and each kind of viewer (the public, a planner of one
organisation in the browser, a read token of another), the town is built from what the
viewer may see; every reading endpoint and page is asked; then the works the viewer may not
see are added, and everything is asked again. The two sets of answers must be equal, except
for what docs/security.md lists as revealed on purpose:

- R1: an organisation is told that its *own* work meets a work it may not see - the clash's
  id, rule, kind and status, its own work, and the rule's own words. Such clashes are taken
  out of the second set (and out of its counts) and checked on their own: nothing measured,
  no time, no place, no history, no other side.

Noise that differs between two identical requests (CSP nonces, CSRF tokens, the random
element ids Folium gives a map) is taken out of both, and the test first checks that the
same request asked twice in the same town is equal after that: nothing else is hidden.
"""

from __future__ import annotations

import difflib
import json
import os
import random
import re
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

import pytest
import shapely
from shapely import LineString, Point, Polygon
from sqlalchemy import select

from kip.actors import Actor
from kip.models import Phase, Visibility, Work
from kip.services import accounts
from kip.services.digbans import DigBanData, create_dig_ban
from kip.services.works import WorkData, create_work

SYSTEM = Actor.system("test")
X0, Y0 = 174000.0, 450000.0  # the town's south-west corner (RD New), a 400 m square
SIZE = 400.0
# Three towns per viewer in every run; KIP_NONINTERFERENCE_SEEDS=50 asks for more.
SEEDS = range(int(os.environ.get("KIP_NONINTERFERENCE_SEEDS", "3")))
DISCIPLINES = ["sewer", "water", "gas", "electricity", "telecom", "road", "green", "lighting"]
PHASES = ["initiative", "design", "planned", "final", "in_progress", "completed", "cancelled"]
REGION = "5.60,51.95,5.75,52.10"  # lon/lat around the town, for the map and list boxes

NOISE = [
    (re.compile(r'nonce="[^"]*"'), 'nonce="-"'),
    (re.compile(r'(name="csrf_token"[^>]*value=")[^"]*"'), r'\1-"'),
    (re.compile(r'(name="csrf-token" content=")[^"]*"'), r'\1-"'),
    (re.compile(r"(?<![0-9a-f])[0-9a-f]{32}(?![0-9a-f])"), "-"),  # Folium's element ids
]


def denoise(text: str) -> str:
    for pattern, replacement in NOISE:
        text = pattern.sub(replacement, text)
    return text


# --- the generated town -------------------------------------------------------------------


@dataclass
class Town:
    orgs: list[Any]
    planner: Any = None
    token: str = ""
    works: list[Any] = field(default_factory=list)


def random_geometry(rng: random.Random):
    x, y = X0 + rng.uniform(0, SIZE), Y0 + rng.uniform(0, SIZE)
    kind = rng.choice(["line", "line", "polygon", "point"])
    if kind == "point":
        return Point(x, y)
    if kind == "polygon":
        w, h = rng.uniform(5, 60), rng.uniform(5, 60)
        return Polygon([(x, y), (x + w, y), (x + w, y + h), (x, y + h)])
    points = [(x, y)]
    for _ in range(rng.randint(1, 3)):
        x, y = x + rng.uniform(-80, 80), y + rng.uniform(-80, 80)
        points.append((x, y))
    return LineString(points)


def random_period(rng: random.Random) -> tuple[date, date]:
    start = date(2027, 1, 1) + timedelta(days=rng.randrange(0, 700))
    return start, start + timedelta(days=rng.randrange(0, 200))


def random_work(rng: random.Random, orgs: list[Any], n: int) -> tuple[Any, WorkData]:
    start, end = random_period(rng)
    visibility = rng.choice(list(Visibility))
    data = WorkData(
        title=f"Werk {n} {rng.choice(['Dorpsstraat', 'Kerkweg', 'Molenlaan'])}",
        description=rng.choice(["", f"Omschrijving {n}"]),
        discipline=rng.choice(DISCIPLINES),
        phase=rng.choice(PHASES),
        geometry=random_geometry(rng),
        start_date=start,
        end_date=end,
        excavation=rng.random() < 0.6,
        traffic_impact=rng.choice(["none", "lane", "closure"]),
        visibility=visibility,
        external_ref=f"REF-{n}",
        contact_name=rng.choice([None, f"Contact {n}"]),
    )
    return rng.choice(orgs), data


def random_draft(rng: random.Random, n: int) -> dict[str, Any]:
    start, end = random_period(rng)
    return {
        "type": "Feature",
        "geometry": shapely.geometry.mapping(random_geometry(rng)),
        "properties": {
            "title": f"Schets {n}",
            "discipline": rng.choice(DISCIPLINES),
            "phase": "design",
            "start_date": start.isoformat(),
            "end_date": end.isoformat(),
            "excavation": rng.random() < 0.7,
        },
    }


def firm_phases(session) -> set[str]:
    return set(
        session.execute(
            select(Phase.code).where(Phase.is_firm.is_(True), Phase.takes_part.is_(True))
        ).scalars()
    )


def hidden_from(viewer: str, town: Town, firm: set[str]):
    """Whether a work (its organisation and data) is one ``viewer`` may not see."""
    org_a, org_b = town.orgs[0], town.orgs[1]

    def hidden(org, data: WorkData) -> bool:
        if viewer == "public":
            return not (data.visibility == Visibility.PUBLIC and data.phase in firm)
        own = org_a if viewer == "planner" else org_b
        return data.visibility == Visibility.CONFIDENTIAL and org is not own

    return hidden


# --- what a viewer can ask ----------------------------------------------------------------


class Viewer:
    """Asks every reading endpoint and page as one viewer; answers keyed by request."""

    def __init__(self, client, kind: str, headers: dict[str, str], drafts: list[dict]) -> None:
        self.client, self.kind, self.headers, self.drafts = client, kind, headers, drafts

    def get(self, url: str) -> tuple[int, Any]:
        response = self.client.get(url, headers=self.headers)
        body = response.get_data()
        response.close()
        if response.mimetype.endswith("json"):
            return response.status_code, json.loads(body)
        try:
            return response.status_code, denoise(body.decode())
        except UnicodeDecodeError:
            return response.status_code, body

    def ask(self) -> dict[str, Any]:
        answers: dict[str, Any] = {}

        def ask(url: str) -> Any:
            answers[url] = self.get(url)
            return answers[url][1]

        partner = self.kind != "public"
        listing = ask("/api/v1/works?limit=1000")
        ask(f"/api/v1/works?limit=1000&bbox={REGION}&start=2027-06-01&end=2027-12-31")
        ask("/api/v1/works?limit=1000&q=Dorpsstraat")
        ask("/api/v1/works?limit=5&discipline=sewer")
        for zoom in (12, 17):
            ask(f"/api/v1/map/works?bbox={REGION}&zoom={zoom}&limit=1000")
        ask(f"/api/v1/map/works?bbox={REGION}&zoom=17&limit=1000&public=true")
        for fmt in ("geojson", "csv"):
            ask(f"/api/v1/exports?format={fmt}")
        for feature in listing["features"]:
            ask(f"/api/v1/works/{feature['id']}")
            ask(f"/api/v1/works/{feature['id']}/history")
        if partner:
            clashes = ask("/api/v1/clashes?limit=1000")
            for feature in clashes["features"]:
                ask(f"/api/v1/clashes/{feature['id']}")
            ask("/api/v1/clashes?limit=1000&kind=conflict&bbox=" + REGION)
            ask("/api/v1/combinations")
            bans = ask("/api/v1/digbans?include_ended=true")
            for feature in bans["features"]:
                ask(f"/api/v1/digbans/{feature['id']}")
            for n, draft in enumerate(self.drafts):
                response = self.client.post(
                    "/api/v1/works/check?crs=EPSG:28992", json=draft, headers=self.headers
                )
                answers[f"check {n}"] = (response.status_code, response.json)
        if self.kind != "token":  # pages are for people
            ask("/")
            ask("/works/export?format=csv")
            for feature in listing["features"]:
                ask(f"/works/{feature['id']}")
            if partner:
                ask("/plan")
                ask("/digbans")
                page = ask("/clashes?kind=")
                for clash_id in sorted(set(re.findall(r'href="/clashes/(\d+)"', page))):
                    ask(f"/clashes/{clash_id}")
        return answers


# --- what is revealed on purpose ----------------------------------------------------------


def redacted_ids(answers: dict[str, Any]) -> set[int]:
    clashes = answers.get("/api/v1/clashes?limit=1000")
    if clashes is None:
        return set()
    return {f["id"] for f in clashes[1]["features"] if f["properties"]["redacted"]}


def without_revealed(answers: dict[str, Any], revealed: set[int]) -> dict[str, Any]:
    """The answers with R1's clashes taken out (and out of the counts)."""
    out = {}
    for url, (status, body) in answers.items():
        match = re.fullmatch(r"/(?:api/v1/)?clashes/(\d+)", url)
        if match and int(match.group(1)) in revealed:
            continue
        if url.startswith("/api/v1/clashes?"):
            kept = [f for f in body["features"] if f["id"] not in revealed]
            gone = len(body["features"]) - len(kept)
            body = {
                **body,
                "features": kept,
                "numberMatched": body["numberMatched"] - gone,
                "numberReturned": body["numberReturned"] - gone,
            }
        if url.startswith("/clashes?"):
            rows = re.findall(r"<tr>.*?</tr>", body, flags=re.S)
            gone = [r for r in rows if any(f'href="/clashes/{i}"' in r for i in revealed)]
            for row in gone:
                body = body.replace(row, "")
            found = re.search(r"<p>(\d+) gevonden</p>", body)
            assert found
            body = body.replace(
                found.group(0), f"<p>{int(found.group(1)) - len(gone)} gevonden</p>"
            )
        out[url] = (status, body)
    return out


WITHHELD = (
    "score",
    "distance_m",
    "overlap_days",
    "gap_days",
    "shared_length_m",
    "first_found_at",
    "measured_at",
    "resolved_at",
    "dig_ban",
)


def check_revealed_on_purpose(answers: dict[str, Any], revealed: set[int], own_org: int) -> None:
    """R1's clashes carry their rule, kind, status and the viewer's own work, nothing else."""
    for clash_id in revealed:
        status, feature = answers[f"/api/v1/clashes/{clash_id}"]
        assert status == 200
        props = feature["properties"]
        assert feature["geometry"] is None
        assert props["redacted"] is True and props["history"] == []
        assert all(props[k] is None for k in WITHHELD), props
        assert props["review"] == {"note": None, "by": None, "at": None}
        assert props["work_b"] == {"visible": False}  # the viewer's own work is always a
        assert props["work_a"]["organisation"]["id"] == own_org  # told to the owner only
        facts = props["explanation"]["facts"]
        assert "may not see" in facts
        assert not re.search(r"\d+ days at the same time|\d+(\.\d)? m apart", facts)


def lines(answer: Any) -> list[str]:
    if answer is not None and isinstance(answer[1], str):
        return [str(answer[0]), *answer[1].splitlines()]
    return json.dumps(answer, indent=1, ensure_ascii=False, default=str).splitlines()


def differences(before: dict[str, Any], after: dict[str, Any]) -> str:
    """The first lines that differ, per request, to read in a failure."""
    out = []
    for url in before:
        if before[url] != after.get(url):
            a, b = (lines(x) for x in (before[url], after.get(url)))
            diff = difflib.unified_diff(a, b, lineterm="", n=1)
            out.append(f"{url}:\n" + "\n".join(list(diff)[2:14]))
    return "\n".join(out)


# --- the test -----------------------------------------------------------------------------


def build(session, town: Town, works, hidden, *, keep_hidden: bool) -> None:
    for org, data in works:
        if hidden(org, data) == keep_hidden:
            town.works.append(create_work(session, SYSTEM, org.id, data))
    session.flush()


@pytest.mark.parametrize("viewer", ["public", "planner", "token"])
@pytest.mark.parametrize("seed", SEEDS)
def test_a_viewer_sees_the_same_with_or_without_what_they_may_not_see(
    app, session, make_org, make_user, viewer: str, seed: int
) -> None:
    rng = random.Random(f"{seed}-{viewer}")
    orgs = [
        make_org("Gemeente Riolering"),
        make_org("Netwerk Vallei", kind="grid_operator"),
        make_org("Vitens", kind="water"),
    ]
    town = Town(orgs)
    firm = firm_phases(session)
    hidden = hidden_from(viewer, town, firm)
    works: list[tuple[Any, WorkData]] = []
    while sum(hidden(o, d) for o, d in works) < 3 or all(hidden(o, d) for o, d in works):
        works = [random_work(rng, orgs, n) for n in range(rng.randint(14, 22))]
    for n in range(2):  # dig bans every partner must know of
        start, end = random_period(rng)
        x, y = X0 + rng.uniform(0, SIZE), Y0 + rng.uniform(0, SIZE)
        create_dig_ban(
            session,
            SYSTEM,
            DigBanData(
                organisation_id=orgs[0].id,
                title=f"Graafverbod {n}",
                start_date=start,
                end_date=end,
                area=Point(x, y).buffer(rng.uniform(20, 80)),
            ),
        )
    client = app.test_client()
    headers: dict[str, str] = {}
    if viewer == "planner":
        planner = make_user("planner", organisation=orgs[0])
        with client.session_transaction() as browser:
            browser["_user_id"] = f"{planner.id}:{planner.password_changed_at.timestamp()}"
            browser["_fresh"] = True
        page = client.get("/").get_data(as_text=True)
        csrf = re.search(r'name="csrf_token"[^>]*?value="([^"]+)"', page)
        assert csrf, "the logged-in page offers a form (log out) with a CSRF token"
        client.environ_base["HTTP_X_CSRFTOKEN"] = csrf.group(1)
    elif viewer == "token":
        secret = accounts.create_token(
            session, SYSTEM, organisation=orgs[1], scope="read", name="koppeling"
        ).secret
        headers = {"Authorization": f"Bearer {secret}"}
    drafts = [random_draft(rng, n) for n in range(3)]
    asker = Viewer(client, viewer, headers, drafts)

    build(session, town, works, hidden, keep_hidden=False)
    before = asker.ask()
    again = asker.ask()
    assert again == before, differences(before, again)  # the noise is all taken out
    refused = {url for url, (status, _) in before.items() if status != 200}
    if viewer == "public":  # a work's history is for partners
        assert refused == {url for url in before if url.endswith("/history")}
    else:
        assert not refused, {url: before[url] for url in refused}

    build(session, town, works, hidden, keep_hidden=True)
    after = asker.ask()
    revealed = redacted_ids(after)
    assert not redacted_ids(before)
    if viewer != "public":
        own_org = orgs[0] if viewer == "planner" else orgs[1]
        check_revealed_on_purpose(after, revealed, own_org.id)

    after = without_revealed(after, revealed)
    assert after.keys() == before.keys()
    assert after == before, f"hidden works changed what {viewer} sees:\n" + differences(
        before, after
    )

    # The check can fail: the hidden works are there, and the coordinator sees them.
    everything = session.execute(select(Work.title).where(Work.deleted_at.is_(None))).scalars()
    titles = set(everything)
    assert {d.title for o, d in works if hidden(o, d)} <= titles
