"""The workshop API: good requests give the run's series; bad and hostile ones are refused with
the right status and a message, and the server keeps serving."""
import json
import threading

import h5py
import numpy as np
import pytest

SMALL = {"scenario": "word_of_mouth", "params": {"word_of_mouth": 0.8}}


def test_scenarios_list_sliders_with_ranges(server):
    status, headers, body = server.request("GET", "/api/scenarios")
    assert status == 200 and headers["Content-Type"] == "application/json"
    cat = json.loads(body)
    ids = [s["id"] for s in cat["scenarios"]]
    assert ids == ["word_of_mouth", "clusters_matter", "tipping_points", "eu_clusters"]
    by_id = {s["id"]: s for s in cat["scenarios"]}
    sliders = {s["name"]: s for s in by_id["clusters_matter"]["sliders"]}
    assert set(sliders) == {"peer_weight", "facilitation", "cost_subsidy", "pioneers"}
    assert (sliders["peer_weight"]["min"], sliders["peer_weight"]["max"]) == (1, 6)
    assert sliders["peer_weight"]["value"] == 3.0  # the scenario's own value
    assert sliders["pioneers"]["integer"] is True
    assert {s["name"] for s in by_id["tipping_points"]["sliders"]} >= {"threshold_sd"}
    assert len(by_id["eu_clusters"]["territories"]) == 27


def test_run_returns_series_and_is_reproducible(server):
    status, _, a = server.run(SMALL)
    assert status == 200, a
    assert a["scenario"] == "word_of_mouth" and a["params"]["word_of_mouth"] == 0.8
    inn = a["innovations"][0]
    assert len(inn["share"]) == a["steps"] + 1 == 61
    assert all(0 <= x <= 1 for x in inn["share"])
    assert inn["share"][-1] == pytest.approx(inn["summary"]["final_share"])
    assert len(inn["territory_share"]) == len(a["territories"]) == 6
    _, _, b = server.run(SMALL)
    assert b["innovations"] == a["innovations"] and b["id"] != a["id"]
    # A slider moves the result: more word of mouth, more adoption.
    _, _, c = server.run({"scenario": "word_of_mouth", "params": {"word_of_mouth": 2.5}})
    assert c["innovations"][0]["summary"]["final_share"] > inn["summary"]["final_share"]


def test_every_slider_of_every_scenario_runs_at_its_bounds(server):
    _, _, body = server.request("GET", "/api/scenarios")
    for sc in json.loads(body)["scenarios"]:
        for bound in ("min", "max"):
            params = {s["name"]: s[bound] for s in sc["sliders"]}
            status, _, res = server.run({"scenario": sc["id"], "params": params, "steps": 12})
            assert status == 200, (sc["id"], bound, res)


def test_cost_subsidy_and_seed_and_steps(server):
    base = {"scenario": "clusters_matter", "steps": 24}
    _, _, a = server.run(base)
    _, _, b = server.run({**base, "params": {"cost_subsidy": 0.8}})
    assert b["innovations"][0]["summary"]["final_share"] > a["innovations"][0]["summary"]["final_share"]
    _, _, c = server.run({**base, "seed": 99})
    assert c["seed"] == 99 and c["innovations"][0]["share"] != a["innovations"][0]["share"]
    assert a["steps"] == 24 and len(a["innovations"][0]["share"]) == 25


def test_export_gives_the_hdf5_of_the_run(server, tmp_path):
    _, _, run = server.run({"scenario": "clusters_matter", "params": {"peer_weight": 4.5}})
    status, headers, data = server.request("GET", run["export"])
    assert status == 200
    assert headers["Content-Type"] == "application/x-hdf5"
    assert "attachment" in headers["Content-Disposition"]
    assert data[:8] == b"\x89HDF\r\n\x1a\n"
    path = tmp_path / "run.h5"
    path.write_bytes(data)
    with h5py.File(path, "r") as f:
        adopters = f["series/adopters"][()]  # [step, innovation, territory]
        orgs = f["territories/organisations"][()]
        share = adopters[:, 0, :].sum(axis=1) / orgs.sum()
    np.testing.assert_allclose(share, run["innovations"][0]["share"], rtol=0, atol=1e-12)
    status, _, body = server.request("GET", "/api/export/r999999999.h5")
    assert status == 404 and b"no run" in body


@pytest.mark.parametrize(
    "payload, fragment",
    [
        ({"scenario": "word_of_mouth", "params": {"colour": 3}}, "unknown parameter 'colour'"),
        ({"scenario": "tipping_points", "params": {"peer_weight": 3}}, "unknown parameter"),
        ({"scenario": "clusters_matter", "params": {"peer_weight": 40}}, "must be in [1.0, 6.0]"),
        ({"scenario": "clusters_matter", "params": {"peer_weight": 0.5}}, "must be in"),
        ({"scenario": "clusters_matter", "params": {"cost_subsidy": -0.1}}, "must be in"),
        ({"scenario": "clusters_matter", "params": {"pioneers": 10**12}}, "must be in [0, 200]"),
        ({"scenario": "clusters_matter", "params": {"pioneers": 2.5}}, "whole number"),
        ({"scenario": "clusters_matter", "params": {"peer_weight": "3"}}, "must be a number"),
        ({"scenario": "clusters_matter", "params": {"peer_weight": True}}, "must be a number"),
        ({"scenario": "clusters_matter", "params": {"peer_weight": None}}, "must be a number"),
        ({"scenario": "clusters_matter", "params": [1, 2]}, "'params' must be an object"),
        ({"scenario": "word_of_mouth", "steps": 10**9}, "'steps' must be"),
        ({"scenario": "word_of_mouth", "steps": 241}, "'steps' must be"),
        ({"scenario": "word_of_mouth", "steps": 0}, "'steps' must be"),
        ({"scenario": "word_of_mouth", "seed": -1}, "'seed' must be"),
        ({"scenario": "word_of_mouth", "seed": 2**70}, "'seed' must be"),
        ({"scenario": "word_of_mouth", "organisations": 10**8}, "unknown field 'organisations'"),
        ({"scenario": "word_of_mouth", "set": ["time.steps=100000"]}, "unknown field 'set'"),
        ({"scenario": "nope"}, "unknown scenario 'nope'"),
        ({"scenario": "../baseline_eu27"}, "unknown scenario"),
        ({"scenario": "/etc/passwd"}, "unknown scenario"),
        ({"scenario": "word_of_mouth; rm -rf /"}, "unknown scenario"),
        ({"scenario": 3}, "'scenario' is required"),
        ({}, "'scenario' is required"),
        ({"params": {"media": 0.1}}, "'scenario' is required"),
    ],
)
def test_bad_requests_get_400_with_a_message(server, payload, fragment):
    status, _, body = server.run(payload)
    assert status == 400, body
    assert fragment in body["error"]


@pytest.mark.parametrize(
    "raw",
    ['{"scenario": "word_of_mouth"', "", "[]", '"word_of_mouth"', "null", "{'a': 1}",
     '{"scenario": "word_of_mouth", "params": {"media": NaN}}', "\x00\xff", "[" * 5000 + "]" * 5000],
)
def test_malformed_json_gets_400(server, raw):
    status, _, body = server.run(raw)
    assert status == 400, body
    assert body["error"]


def test_wrong_content_type_gets_415(server):
    status, _, body = server.request("POST", "/api/run", json.dumps(SMALL),
                                     {"Content-Type": "text/plain"})
    assert status == 415


def test_huge_body_gets_413(server):
    payload = json.dumps({"scenario": "word_of_mouth", "params": {"x" * 100_000: 1}})
    status, _, _ = server.request("POST", "/api/run", payload, {"Content-Type": "application/json"})
    assert status == 413


@pytest.mark.parametrize(
    "path",
    ["/../CMakeLists.txt", "/..%2f..%2fetc%2fpasswd", "/%2e%2e/%2e%2e/etc/passwd",
     "/../../../../etc/passwd", "/web/../sim/cli/main.cpp", "/api/export/../../etc/passwd",
     "/api/export/r1.h5/../../../CMakeLists.txt", "/api/export/%2e%2e%2fCMakeLists.txt",
     "/index.html%00.txt", "//etc/passwd", "/.git/config", "/app.js/..", "/scenarios/teaching/word_of_mouth.toml",
     "/api/scenarios/../../README.md"],
)
def test_path_tricks_get_4xx_and_no_file(server, path):
    status, _, body = server.request("GET", path)
    assert 400 <= status < 500, (path, status)
    assert b"root:" not in body and b"cmake_minimum_required" not in body and b"[core]" not in body


def test_other_hosts_are_refused(server):
    status, _, body = server.request("GET", "/api/scenarios", headers={"Host": "evil.example:80"})
    assert status == 403 and b"127.0.0.1" in body


def test_page_and_static_files_are_served(server):
    status, headers, body = server.request("GET", "/")
    assert status == 200 and headers["Content-Type"].startswith("text/html")
    assert b"<main>" in body and "default-src 'self'" in headers["Content-Security-Policy"]
    for path, kind in [("/app.js", "text/javascript"), ("/style.css", "text/css")]:
        status, headers, _ = server.request("GET", path)
        assert status == 200 and headers["Content-Type"].startswith(kind)


def test_other_methods_are_refused(server):
    for method in ("PUT", "DELETE", "PATCH"):
        status, _, _ = server.request(method, "/api/run", json.dumps(SMALL),
                                      {"Content-Type": "application/json"})
        assert 400 <= status < 500
    status, _, _ = server.request("GET", "/api/run")
    assert status == 404


def test_full_queue_gets_503_and_the_server_recovers(make_server):
    s = make_server("--workers", "1", "--queue", "1")
    payload = {"scenario": "eu_clusters", "steps": 90}  # 40,000 x 91 organisation-steps, under the limit
    start = threading.Barrier(12)
    results = []

    def client():
        start.wait()
        status, headers, body = s.run(payload)
        results.append((status, headers.get("Retry-After"), body))

    threads = [threading.Thread(target=client) for _ in range(12)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    statuses = sorted(r[0] for r in results)
    assert len(results) == 12 and set(statuses) <= {200, 503}, statuses
    assert statuses.count(200) >= 1 and statuses.count(503) >= 1, statuses
    busy = [r for r in results if r[0] == 503]
    assert all(r[1] == "2" and "busy" in r[2]["error"] for r in busy)
    # Every successful answer is the same run.
    ok = [r[2]["innovations"] for r in results if r[0] == 200]
    assert all(o == ok[0] for o in ok)
    status, _, _ = s.run(payload)
    assert status == 200 and s.alive()


def test_a_run_over_its_time_is_stopped_with_503(make_server):
    s = make_server("--max-run-seconds", "0.001")
    status, _, body = s.run({"scenario": "eu_clusters", "steps": 90})
    assert status == 503 and "took longer" in body["error"]
    assert s.alive()


def test_server_still_serves_after_all_this(server):
    status, _, body = server.request("GET", "/api/status")
    assert status == 200 and json.loads(body)["workers"] >= 1
    status, _, _ = server.run(SMALL)
    assert status == 200 and server.alive()
