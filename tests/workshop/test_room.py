"""A workshop room (csei workshop --lan): join and trainer codes, participants' names, the
trainer's API, and hostile requests with and without codes from another address.

"Another host" is real: the server listens on 0.0.0.0 and the client binds its source address to
127.0.0.2, so the server's accept() sees 127.0.0.2 as the remote address. (Connecting to
127.0.0.2 without binding is not enough: Linux then picks 127.0.0.1 as the source, and the server
sees loopback; test_the_server_sees_the_bound_source_address checks both.)"""
import csv
import io
import json
import re
import socket

import h5py
import numpy as np
import pytest

from workshop_server import WorkshopServer

OTHER = "127.0.0.2"  # the address of "another host"


@pytest.fixture
def room():
    s = WorkshopServer("--lan", env={"CSEI_WORKSHOP_RUNS_PER_MINUTE": "600",
                                     "CSEI_WORKSHOP_RUN_BURST": "50"})
    s.read_codes()
    yield s
    assert s.stop() == 0


class Client:
    """A participant's browser: one address, cookies kept like a browser keeps them."""

    def __init__(self, server, source=OTHER):
        self.server, self.source, self.cookies = server, source, {}

    def request(self, method, path, payload=None, headers=None):
        h = dict(headers or {})
        if self.cookies:
            h["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        body = None
        if payload is not None:
            body = payload if isinstance(payload, (str, bytes)) else json.dumps(payload)
            h.setdefault("Content-Type", "application/json")
        conn = self.server.connection(source=self.source)
        try:
            conn.request(method, path, body=body, headers=h)
            res = conn.getresponse()
            for name, value in res.getheaders():
                if name.lower() == "set-cookie":
                    k, v = value.split(";", 1)[0].split("=", 1)
                    self.cookies[k] = v
            data = res.read()
            ctype = res.getheader("Content-Type", "")
            is_json = ctype.startswith("application/json") and data
            return res.status, json.loads(data) if is_json else data
        finally:
            conn.close()

    def get(self, path, **kw):
        return self.request("GET", path, **kw)

    def post(self, path, payload, **kw):
        return self.request("POST", path, payload, **kw)

    def join(self, name):
        status, body = self.get(f"/?code={self.server.join_code}")
        assert status == 200, body
        status, body = self.post("/api/join", {"name": name})
        assert status == 200, body
        assert body["name"] == name
        return self

    def run(self, scenario="word_of_mouth", params=None, steps=12):
        return self.post("/api/run", {"scenario": scenario, "params": params or {},
                                      "steps": steps})


def trainer(server, source=None):
    c = Client(server, source)
    status, _ = c.get(f"/trainer?code={server.trainer_code}")
    assert status == 200
    assert "csei_trainer" in c.cookies
    return c


def test_lan_prints_the_join_url_its_code_a_qr_code_and_the_trainer_code(room):
    text = "".join(room.lines)
    assert re.fullmatch(r"[A-Z2-9]{6}", room.join_code)
    assert re.fullmatch(r"[A-Z2-9]{12}", room.trainer_code)
    assert room.join_url.endswith(f":{room.port}/?code={room.join_code}")
    assert not room.join_url.startswith("http://0.0.0.0")
    qr = [line for line in room.lines if "\u2588" in line]
    assert len(qr) >= 12, "a QR code of half blocks"
    assert len({len(line) for line in qr}) == 1, "every line of the QR code is as wide"
    assert f"/trainer?code={room.trainer_code}" in text
    assert room.trainer_code not in room.join_url


def test_codes_are_random_per_session(make_server):
    a, b = make_server("--lan"), make_server("--lan")
    a.read_codes(), b.read_codes()
    assert a.join_code != b.join_code and a.trainer_code != b.trainer_code


def test_the_server_sees_the_bound_source_address(room):
    t = trainer(room)  # the trainer's code lets an unnamed caller run; the run names its address
    for source, seen in [(OTHER, OTHER), (None, "this computer")]:
        c = Client(room, source)
        c.cookies = dict(t.cookies)
        status, body = c.run()
        assert status == 200, body
        assert body["who"] == seen
    # Connecting to 127.0.0.2 without binding: the source is 127.0.0.1, loopback.
    with socket.create_connection((OTHER, room.port)) as s:
        s.sendall(f"GET /api/scenarios HTTP/1.1\r\nHost: {OTHER}:{room.port}\r\n"
                  "Connection: close\r\n\r\n".encode())
        assert s.recv(100).startswith(b"HTTP/1.1 200")


@pytest.mark.parametrize("method,path,payload", [
    ("GET", "/", None),
    ("GET", "/index.html", None),
    ("GET", "/app.js", None),
    ("GET", "/api/scenarios", None),
    ("GET", "/api/status", None),
    ("GET", "/api/room", None),
    ("GET", "/api/runs", None),
    ("GET", "/api/export/r1.h5", None),
    ("GET", "/trainer", None),
    ("GET", "/api/trainer/state", None),
    ("GET", "/api/trainer/export.csv", None),
    ("GET", "/api/trainer/export.h5", None),
    ("GET", "/api/trainer/run/r1", None),
    ("GET", "/../../etc/passwd", None),
    ("GET", "/nothing-here", None),
    ("HEAD", "/", None),
    ("POST", "/api/run", {"scenario": "word_of_mouth"}),
    ("POST", "/api/join", {"name": "intruder"}),
    ("POST", "/api/trainer/reset", {}),
    ("POST", "/api/trainer/room", {"reveal": True}),
    ("DELETE", "/", None),
])
@pytest.mark.parametrize("code", [None, "WRONG1", "wrong", "", "%00", "A" * 5000])
def test_another_host_without_the_right_code_gets_401_and_nothing_else(room, method, path,
                                                                       payload, code):
    c = Client(room)
    target = path if code is None else f"{path}?code={code}"
    if len(target) > 6000:
        pytest.skip("beyond the head limit (431)")
    status, body = c.request(method, target, payload)
    assert status == 401, (status, body)
    assert not c.cookies, "no cookie for a wrong code"
    if method == "HEAD":
        return
    if isinstance(body, dict):
        assert "code" in body["error"]
    else:
        assert b"code" in body and b"<form" in body
        assert b"teaching" not in body and b"app.js" not in body  # not the page itself


def test_a_wrong_cookie_or_header_is_401_too(room):
    for headers in [{"Cookie": "csei_code=NOPE42"}, {"X-Csei-Code": "NOPE42"},
                    {"Cookie": f"csei_code={room.join_code.lower()}"},
                    {"Cookie": f"csei_code={room.join_code}X"},
                    {"X-Csei-Code": room.join_code[:-1]},
                    {"Cookie": f"other={room.join_code}"}]:
        status, body = Client(room).get("/api/scenarios", headers=headers)
        assert status == 401, headers


def test_the_join_code_lets_another_host_in_by_query_cookie_or_header(room):
    c = Client(room)
    status, page = c.get(f"/?code={room.join_code}")
    assert status == 200 and b"<html" in page
    assert c.cookies == {"csei_code": room.join_code}
    status, body = c.get("/api/scenarios")  # the cookie alone
    assert status == 200 and body["scenarios"]
    status, body = Client(room).get("/api/scenarios", headers={"X-Csei-Code": room.join_code})
    assert status == 200


def test_the_join_code_opens_no_trainer_route(room):
    c = Client(room).join("Group A")
    for path in ["/trainer", "/trainer.html", "/trainer.js", "/api/trainer/state",
                 "/api/trainer/export.csv", "/api/trainer/export.h5", "/api/trainer/run/r1",
                 f"/trainer?code={room.join_code}"]:
        status, _ = c.get(path)
        assert status == 401, path
    status, _ = c.post("/api/trainer/reset", {})
    assert status == 401
    status, _ = c.post("/api/trainer/room", {"locked": ["media"]},
                       headers={"X-Csei-Trainer": room.join_code})
    assert status == 401


def test_loopback_needs_no_join_code_but_the_trainer_code_for_the_trainer(room):
    local = Client(room, None)
    assert local.get("/api/scenarios")[0] == 200
    assert local.get("/api/trainer/state")[0] == 401
    assert local.get("/trainer")[0] == 401
    assert local.get("/api/trainer/state", headers={"X-Csei-Trainer": room.trainer_code})[0] == 200
    t = trainer(room)
    status, state = t.get("/api/trainer/state")
    assert status == 200
    assert state["join_url"] == room.join_url
    assert state["qr_svg"].startswith("<svg") and "<path" in state["qr_svg"]


def test_the_trainer_code_works_from_another_host_too(room):
    t = trainer(room, OTHER)
    status, state = t.get("/api/trainer/state")
    assert status == 200 and state["join_code"] == room.join_code


def test_a_participant_must_join_with_a_name_before_running(room):
    c = Client(room)
    assert c.get(f"/?code={room.join_code}")[0] == 200
    status, body = c.run()
    assert status == 403 and "join" in body["error"]
    status, body = c.get("/api/room")
    assert status == 200 and body["must_join"] and not body["joined"]
    for bad in [{}, {"name": ""}, {"name": "   "}, {"name": 7}, {"name": "x" * 41},
                {"name": "A", "extra": {"deep": [1e999]}}]:
        status, body = c.post("/api/join", bad)
        assert status == 400, (bad, body)
    status, body = c.post("/api/join", "{\"name\": ")
    assert status == 400
    c.post("/api/join", {"name": "  Group\tA  "})
    status, room_state = c.get("/api/room")
    assert room_state["joined"] and room_state["name"] == "Group A"
    status, body = c.run()
    assert status == 200 and body["who"] == "Group A"


def test_participants_see_their_own_runs_and_the_class_once_revealed(room):
    a, b = Client(room).join("Group A"), Client(room).join("Group B")
    ra = a.run(params={"media": 0.05})[1]["id"]
    rb = b.run(params={"media": 0.2})[1]["id"]
    assert [r["id"] for r in a.get("/api/runs")[1]["own"]] == [ra]
    assert a.get("/api/runs")[1]["class"] is None
    assert [r["id"] for r in b.get("/api/runs")[1]["own"]] == [rb]
    # A participant cannot keep or export another's run.
    assert a.post("/api/keep", {"id": rb})[0] == 404
    assert a.get(f"/api/export/{rb}.h5")[0] == 404
    assert a.post("/api/keep", {"id": ra, "kept": True})[1]["kept"] is True
    t = trainer(room)
    assert t.post("/api/trainer/room", {"reveal": True})[0] == 200
    class_runs = a.get("/api/runs")[1]["class"]
    assert {(r["id"], r["who"]) for r in class_runs} == {(ra, "Group A"), (rb, "Group B")}
    assert a.get("/api/room")[1]["reveal"] is True


def test_the_trainer_sees_every_group_and_who_is_connected(room):
    a, b = Client(room).join("Group A"), Client(room).join("Group B")
    a.run(), a.run(params={"word_of_mouth": 2.0}), b.run()
    state = trainer(room).get("/api/trainer/state")[1]
    people = {p["name"]: p for p in state["participants"]}
    assert set(people) == {"Group A", "Group B"}
    assert people["Group A"]["runs"] == 2 and people["Group B"]["runs"] == 1
    assert all(p["connected"] for p in people.values())
    assert [r["who"] for r in state["runs"]] == ["Group A", "Group A", "Group B"]
    assert all(len(r["share"]) == 13 for r in state["runs"])
    assert state["runs"][1]["params"]["word_of_mouth"] == 2.0


def test_locked_sliders_and_the_room_scenario_are_enforced(room):
    a = Client(room).join("Group A")
    t = trainer(room)
    default = next(s for s in a.get("/api/scenarios")[1]["scenarios"]
                   if s["id"] == "word_of_mouth")
    media = next(x["value"] for x in default["sliders"] if x["name"] == "media")
    status, body = t.post("/api/trainer/room", {"locked": ["media"], "scenario": "word_of_mouth"})
    assert status == 200 and body["locked"] == ["media"] and body["scenario"] == "word_of_mouth"
    assert a.get("/api/room")[1]["locked"] == ["media"]
    status, body = a.run(params={"media": 0.3})
    assert status == 403 and "locked" in body["error"]
    assert a.run(params={"media": media})[0] == 200
    assert a.run(params={"word_of_mouth": 1.0})[0] == 200
    status, body = a.run("tipping_points")
    assert status == 403 and "word_of_mouth" in body["error"]
    for bad in [{"locked": ["no_such"]}, {"locked": "media"}, {"scenario": "nope"},
                {"reveal": "yes"}, {"other": 1}]:
        assert t.post("/api/trainer/room", bad)[0] == 400, bad
    t.post("/api/trainer/room", {"locked": [], "scenario": None})
    assert a.run(params={"media": 0.3})[0] == 200
    assert a.run("tipping_points")[0] == 200


def test_reset_forgets_the_sessions_runs_and_exports_only_the_session(room):
    a = Client(room).join("=HYPERLINK(\"x\")")
    r1 = a.run()[1]["id"]
    t = trainer(room)
    rows = list(csv.DictReader(io.StringIO(t.get("/api/trainer/export.csv")[1].decode())))
    assert [r["run"] for r in rows] == [r1]
    assert rows[0]["who"].startswith("'="), "no formula in a spreadsheet"
    assert float(rows[0]["final_share"]) > 0
    t.post("/api/trainer/room", {"reveal": True, "locked": ["media"]})
    status, body = t.post("/api/trainer/reset", {})
    assert status == 200 and body["session"] == 2
    state = t.get("/api/trainer/state")[1]
    assert state["runs"] == [] and state["room"]["locked"] == [] and not state["room"]["reveal"]
    assert a.get(f"/api/export/{r1}.h5")[0] == 404, "an earlier session's run is gone"
    r2 = a.run()[1]["id"]
    rows = list(csv.DictReader(io.StringIO(t.get("/api/trainer/export.csv")[1].decode())))
    assert [r["run"] for r in rows] == [r2]
    status, data = a.get(f"/api/export/{r2}.h5")
    assert status == 200 and data[:8] == b"\x89HDF\r\n\x1a\n"


def test_runs_are_rate_limited_per_participant(make_server):
    s = make_server("--lan", env={"CSEI_WORKSHOP_RUNS_PER_MINUTE": "1",
                                  "CSEI_WORKSHOP_RUN_BURST": "2"})
    s.read_codes()
    a, b = Client(s).join("A"), Client(s).join("B")
    assert [a.run()[0] for _ in range(2)] == [200, 200]
    status, body = a.run()
    assert status == 429 and "a minute" in body["error"]
    assert b.run()[0] == 200, "another participant has their own limit"


def test_hosts_and_origins_stay_checked_with_lan(room):
    c = Client(room)
    ok = {"X-Csei-Code": room.join_code}
    for host, expected in [(f"{OTHER}:{room.port}", 200), (f"192.168.1.20:{room.port}", 200),
                           (f"[::1]:{room.port}", 200), (f"evil.example:{room.port}", 403),
                           (f"{OTHER}:1", 403), (f"{OTHER}.nip.io:{room.port}", 403)]:
        status, _ = c.get("/api/scenarios", headers={**ok, "Host": host})
        assert status == expected, host
    status, _ = c.post("/api/join", {"name": "x"},
                       headers={**ok, "Origin": f"http://evil.example:{room.port}"})
    assert status == 403


def test_without_lan_the_server_is_loopback_only(server):
    with pytest.raises(OSError):
        socket.create_connection((OTHER, server.port), timeout=2).close()
    s = socket.create_connection(("127.0.0.1", server.port), timeout=2,
                                 source_address=(OTHER, 0))
    s.close()  # 127.0.0.1 accepts a connection from 127.0.0.2 ...
    c = Client(server)
    status, body = c.get("/api/scenarios")
    assert status == 401, "... and asks it for a code it cannot know"


def test_a_challenge_ranks_groups_by_outcome_and_return_per_euro(room):
    t = trainer(room)
    bad = [{"challenge": {"goal_share": 2, "goal_years": 4, "budget": 1e6}},
           {"challenge": {"goal_share": 0.5, "goal_years": 4}},
           {"challenge": {"goal_share": 0.5, "goal_years": 4, "budget": -1}},
           {"challenge": {"goal_share": 0.5, "goal_years": 4, "budget": 1, "bonus": 1}},
           {"challenge": "win"}]
    for body in bad:
        assert t.post("/api/trainer/room", body)[0] == 400, body
    a, b, c = (Client(room).join(n) for n in ("Group A", "Group B", "Group C"))
    runs = {}
    for who, subsidy in [(a, 0.0), (b, 0.3), (c, 0.8)]:
        status, run = who.run("clusters_matter", {"cost_subsidy": subsidy}, steps=60)
        assert status == 200, run
        runs[run["who"]] = run
    spent = {w: r["policy_spending"] for w, r in runs.items()}
    assert spent["Group A"] < spent["Group B"] < spent["Group C"], "a subsidy costs money (the policy cost model)"
    budget = (spent["Group B"] + spent["Group C"]) / 2  # C is over budget
    status, body = t.post("/api/trainer/room", {"challenge": {
        "goal_share": 0.5, "goal_years": 4, "budget": budget}})
    assert status == 200 and body["challenge"]["budget"] == budget
    assert a.get("/api/room")[1]["challenge"]["goal_years"] == 4
    ranking = t.get("/api/trainer/state")[1]["ranking"]
    by_outcome = ranking["by_outcome"]
    assert {r["who"] for r in by_outcome} == {"Group A", "Group B"}, "over budget: not ranked"
    shares = [r["share_at_goal"] for r in by_outcome]
    assert shares == sorted(shares, reverse=True)
    for r in by_outcome:
        run = runs[r["who"]]
        assert r["share_at_goal"] == run["innovations"][0]["share"][48]
        assert r["reached"] == (r["share_at_goal"] >= 0.5)
        if r["policy_spending"] > 0:
            assert r["adopters_per_million"] == pytest.approx(
                r["share_at_goal"] * run["organisations"] / (r["policy_spending"] / 1e6))
    returns = [r["adopters_per_million"] or -1 for r in ranking["by_return"]]
    assert returns == sorted(returns, reverse=True)
    t.post("/api/trainer/room", {"challenge": None})
    assert t.get("/api/trainer/state")[1]["ranking"] is None


def test_a_trainer_update_with_one_bad_field_changes_nothing(room):
    t = trainer(room)
    before = t.get("/api/trainer/state")[1]["room"]
    for bad in [{"scenario": "tipping_points", "locked": ["no_such"]},
                {"locked": ["no_such"], "scenario": "tipping_points"},
                {"scenario": "tipping_points", "locked": ["media"], "reveal": "yes"},
                {"reveal": True, "locked": ["media"], "challenge": {"goal_share": 2}},
                {"scenario": "tipping_points", "reveal": True, "other": 1}]:
        status, body = t.post("/api/trainer/room", bad)
        assert status == 400, (bad, body)
        assert t.get("/api/trainer/state")[1]["room"] == before, bad
    a = Client(room).join("Group A")
    assert a.run("tipping_points")[0] == 200, "the failed update set no scenario"
    status, body = t.post("/api/trainer/room", {"scenario": "tipping_points", "locked": ["media"]})
    assert status == 200 and body["scenario"] == "tipping_points" and body["locked"] == ["media"]


def _export(client):
    status, data = client.get("/api/trainer/export.h5")
    assert status == 200, data
    assert data[:8] == b"\x89HDF\r\n\x1a\n"
    return h5py.File(io.BytesIO(data), "r")


def _same(a, b):
    """Series equal as float64 (JSON null where the file has NaN)."""
    a = np.asarray(a, dtype=float)
    b = np.array([np.nan if v is None else v for v in np.ravel(b)], dtype=float).reshape(a.shape)
    np.testing.assert_array_equal(a, b)


def test_the_trainer_exports_every_run_of_the_session_as_one_hdf5_file(room):
    a, b = Client(room).join("Group A"), Client(room).join("Gruppe été")
    runs = [a.run(params={"media": 0.05})[1], b.run(params={"media": 0.2})[1],
            a.run("tipping_points", steps=24)[1]]
    assert all("id" in r for r in runs), runs
    t = trainer(room)
    assert t.post("/api/keep", {"id": runs[1]["id"], "kept": True})[0] == 200
    with _export(t) as f:
        assert f.attrs["kind"] == "workshop_session" and f.attrs["schema_version"] == 1
        assert f.attrs["session"] == 1 and f.attrs["runs"] == 3 and f.attrs["complete"] == 1
        ids = [x.decode() for x in f["run_ids"][()]]
        assert ids == [r["id"] for r in runs]
        assert sorted(f["runs"]) == sorted(ids), "exactly the session's runs"
        for r in runs:
            g = f["runs"][r["id"]]
            assert g.attrs["who"] == r["who"] and g.attrs["scenario"] == r["scenario"]
            assert g.attrs["seed"] == r["seed"] and g.attrs["steps"] == r["steps"]
            assert g.attrs["steps_per_year"] == r["steps_per_year"]
            assert g.attrs["organisations"] == r["organisations"]
            assert g.attrs["kept"] == (1 if r is runs[1] else 0)
            assert g.attrs["policy_spending"] == r["policy_spending"]
            assert dict(g["settings"].attrs) == r["params"]
            assert [x.decode() for x in g["territories"][()]] == [x["code"] for x in r["territories"]]
            assert list(g["territory_organisations"][()]) == [x["organisations"] for x in r["territories"]]
            inns = r["innovations"]
            assert [x.decode() for x in g["innovations"][()]] == [i["name"] for i in inns]
            T, K = r["steps"] + 1, len(r["territories"])
            assert g["share"].shape == (len(inns), T)
            assert g["territory_share"].shape == (len(inns), T, K)
            for i, inn in enumerate(inns):
                _same(g["share"][i], inn["share"])
                _same(g["aware"][i], inn["aware"])
                _same(g["territory_share"][i], inn["territory_share_by_step"])
                assert g.attrs["final_share"] == inns[0]["summary"]["final_share"]
    # The settings differ between the groups' runs as set.
    assert runs[0]["params"]["media"] == 0.05 and runs[1]["params"]["media"] == 0.2
    # Only the trainer gets it: a participant from another host or this computer, joined or not.
    for c in [a, Client(room), Client(room, None)]:
        status, body = c.get("/api/trainer/export.h5")
        assert status == 401 and isinstance(body, dict) and "trainer" in body["error"]
    # After a reset, only the new session's runs.
    t.post("/api/trainer/reset", {})
    r4 = a.run()[1]["id"]
    with _export(t) as f:
        assert f.attrs["session"] == 2
        assert [x.decode() for x in f["run_ids"][()]] == [r4] and list(f["runs"]) == [r4]
    t.post("/api/trainer/reset", {})
    with _export(t) as f:
        assert f.attrs["runs"] == 0 and len(f["runs"]) == 0


def test_the_trainer_gets_the_map_of_any_run_of_the_session(room):
    a = Client(room).join("Group A")
    run = a.run("eu_clusters", steps=24)[1]
    t = trainer(room)
    status, body = t.get(f"/api/trainer/run/{run['id']}")
    assert status == 200, body
    assert body["who"] == "Group A" and body["steps"] == 24
    assert [x["code"] for x in body["territories"]] == [x["code"] for x in run["territories"]]
    got = body["innovations"][0]
    assert got["territory_share_by_step"] == run["innovations"][0]["territory_share_by_step"]
    assert got["territory_share"] == run["innovations"][0]["territory_share"]
    for path in ["/api/trainer/run/r999", "/api/trainer/run/", "/api/trainer/run/..%2f..%2fetc"]:
        status, body = t.get(path)
        assert status == 404, (path, body)
    assert a.get(f"/api/trainer/run/{run['id']}")[0] == 401
