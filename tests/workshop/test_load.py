"""Load on loopback: 12 clients at once for 30 seconds (CSEI_LOAD_SECONDS to change), each
posting small runs back to back on its own keep-alive connection. Every answer must be a 200
with exactly the series of the same request run alone first (runs are deterministic). Prints
the latency (p50, p95, max) and throughput, and writes them to
build/test-artifacts/workshop_load.txt."""
import json
import os
import threading
import time

import numpy as np

from workshop_server import ARTIFACTS

CLIENTS = 12
SECONDS = float(os.environ.get("CSEI_LOAD_SECONDS", "30"))
REQUESTS = [
    {"scenario": "word_of_mouth", "params": {"word_of_mouth": 0.6}},
    {"scenario": "word_of_mouth", "params": {"media": 0.2, "pioneers": 5}},
    {"scenario": "tipping_points", "params": {"threshold_mean": 0.25}},
    {"scenario": "tipping_points", "params": {"threshold_mean": 0.25, "pioneers": 40}},
    {"scenario": "clusters_matter", "params": {"peer_weight": 5, "cost_subsidy": 0.3}},
    {"scenario": "eu_clusters", "params": {"facilitation": 4}},
]


def post(conn, payload):
    conn.request("POST", "/api/run", json.dumps(payload), {"Content-Type": "application/json"})
    res = conn.getresponse()
    return res.status, json.loads(res.read())


def test_twelve_clients_for_thirty_seconds(server):
    conn = server.connection()
    expected = []
    for payload in REQUESTS:
        status, body = post(conn, payload)
        assert status == 200, body
        expected.append(body["innovations"])
    conn.close()

    latencies = [[] for _ in range(CLIENTS)]
    failures = []
    start = threading.Barrier(CLIENTS + 1)

    def client(c):
        conn = server.connection(timeout=30)
        start.wait()
        end = time.monotonic() + SECONDS
        i = c
        while time.monotonic() < end and len(failures) < 10:
            k = i % len(REQUESTS)
            i += 1
            t0 = time.perf_counter()
            try:
                status, body = post(conn, REQUESTS[k])
            except Exception as e:  # a dropped connection is a failure too
                failures.append(f"client {c}: {e!r}")
                conn.close()
                conn = server.connection(timeout=30)
                continue
            latencies[c].append(time.perf_counter() - t0)
            if status != 200:
                failures.append(f"client {c}: {status} {body}")
            elif body["innovations"] != expected[k]:
                failures.append(f"client {c}: request {k} gave a different series")
        conn.close()

    threads = [threading.Thread(target=client, args=(c,)) for c in range(CLIENTS)]
    for t in threads:
        t.start()
    start.wait()
    t0 = time.monotonic()
    for t in threads:
        t.join(SECONDS + 60)
    wall = time.monotonic() - t0
    assert not any(t.is_alive() for t in threads), "a client hung"
    assert failures == []

    lat = np.concatenate([np.asarray(x) for x in latencies]) * 1000
    assert all(len(x) > 0 for x in latencies), "every client got answers"
    report = (
        f"workshop load test: {CLIENTS} clients for {SECONDS:g} s on loopback, "
        f"{len(lat)} runs, all correct\n"
        f"latency ms: p50 {np.percentile(lat, 50):.1f}, p95 {np.percentile(lat, 95):.1f}, "
        f"max {lat.max():.1f}\n"
        f"throughput: {len(lat) / wall:.1f} runs/s ({os.cpu_count()} cores)\n"
    )
    print("\n" + report)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    (ARTIFACTS / "workshop_load.txt").write_text(report)
    status, _, _ = server.request("GET", "/api/status")
    assert status == 200 and server.alive()
