"""Hostile clients: bytes that are not UTF-8 wherever a string can be, numbers out of range,
wrong media types, other hosts and origins, huge, deep, chunked and slow bodies, slow headers,
many connections. Every bad request gets a 4xx with a JSON message (never a 5xx, never a dead
server), slow and idle clients hold no thread, and a normal run afterwards is answered within a
second with the server's memory bounded."""
import json
import random
import socket
import time

import pytest

from workshop_server import WorkshopServer

SMALL = {"scenario": "word_of_mouth", "params": {"word_of_mouth": 0.8}, "steps": 24}

# Short limits for the tests (README, "Workshop mode"): a request's headers, and then its body,
# must arrive within READ seconds.
READ = 1.5


def hostile_server(make_server, **env):
    """A server with short read deadlines (and other limits from env)."""
    return make_server(env={"CSEI_WORKSHOP_READ_SECONDS": str(READ), "CSEI_WORKSHOP_IDLE_SECONDS": "2",
                            **{k: str(v) for k, v in env.items()}})


def parse_response(data):
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.split(b"\r\n")
    status = int(lines[0].split()[1])
    headers = {}
    for line in lines[1:]:
        k, _, v = line.partition(b":")
        headers[k.decode().lower()] = v.strip().decode()
    return status, headers, body


def read_response(sock, timeout=10):
    """(status, headers, body) of the next answer on sock (100 Continue skipped)."""
    sock.settimeout(timeout)
    data = b""
    while True:
        while b"\r\n\r\n" not in data:
            chunk = sock.recv(65536)
            if not chunk:
                raise ConnectionError(f"closed without an answer (got {data[:200]!r})")
            data += chunk
        status, headers, body = parse_response(data)
        if status == 100:
            data = data.split(b"\r\n\r\n", 1)[1]
            continue
        n = int(headers.get("content-length", "0"))
        while len(body) < n:
            chunk = sock.recv(65536)
            if not chunk:
                raise ConnectionError("closed in the middle of an answer")
            body += chunk
        return status, headers, body[:n]


def raw(server, data, timeout=10):
    """Sends bytes as they are on a fresh connection; the answer."""
    with socket.create_connection((server.host, server.port), timeout=timeout) as s:
        s.sendall(data)
        return read_response(s, timeout)


def host(server):
    return f"127.0.0.1:{server.port}".encode()


def post_raw(server, body, extra=b"", ctype=b"application/json", target=b"/api/run"):
    req = (b"POST " + target + b" HTTP/1.1\r\nHost: " + host(server) + b"\r\nContent-Type: " +
           ctype + b"\r\nContent-Length: " + str(len(body)).encode() + b"\r\n" + extra +
           b"\r\n" + body)
    return raw(server, req)


def assert_refused(status, headers, body, expected=None):
    """A 4xx (the expected one, if given) with a JSON body {"error": message} in valid UTF-8."""
    assert 400 <= status < 500, (status, body[:300])
    if expected is not None:
        assert status == expected, (status, body[:300])
    assert headers.get("content-type", "").startswith("application/json")
    message = json.loads(body.decode("utf-8"))["error"]  # strict: the body must be UTF-8
    assert isinstance(message, str) and len(message) > 5
    return message


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise AssertionError("no VmRSS")


def timed_run(server, payload=SMALL):
    t0 = time.monotonic()
    status, _, body = server.run(payload, timeout=5)
    return status, body, time.monotonic() - t0


# --- one request each -----------------------------------------------------------------------

@pytest.mark.parametrize(
    "body, fragment",
    [
        (b'{"scenario": "\xff"}', "malformed JSON"),
        (b'{"scenario": "word_of_mouth", "params": {"\xc3": 1}}', "malformed JSON"),
        (('{"scenario": "' + "a" * 39 + 'é"}').encode(), "unknown scenario 'aaaa"),
        (('{"scenario": "word_of_mouth", "params": {"' + "a" * 39 + 'é": 1}}').encode(),
         "unknown parameter 'aaaa"),
        (('{"' + "b" * 39 + '€": 1, "scenario": "word_of_mouth"}').encode(), "unknown field"),
        (json.dumps(SMALL).encode("utf-16"), "UTF-16"),
        (json.dumps(SMALL).encode("utf-16-le"), "UTF-8"),
        (b'{"scenario": "word_of_mouth"}\xff', "malformed JSON"),
    ],
)
def test_text_that_is_not_utf8_or_is_cut_gets_400_and_the_server_lives(server, body, fragment):
    status, headers, data = post_raw(server, body)
    message = assert_refused(status, headers, data, 400)
    assert fragment in message
    assert server.alive()
    status, _, _ = server.run(SMALL)
    assert status == 200


def test_a_cut_name_is_cut_on_a_character_boundary(server):
    status, _, body = server.run({"scenario": "a" * 39 + "é" + "z" * 10})
    assert status == 400
    assert "'" + "a" * 39 + "...'" in body["error"]


@pytest.mark.parametrize(
    "raw_body, field",
    [
        ('{"scenario": "word_of_mouth", "seed": 1e999}', "'seed'"),
        ('{"scenario": "word_of_mouth", "steps": -1e999}', "'steps'"),
        ('{"scenario": "word_of_mouth", "params": {"media": 1e999}}', "'params.media'"),
        ('{"scenario": "clusters_matter", "params": {"peer_weight": 1e400}}', "'params.peer_weight'"),
        ('{"scenario": "word_of_mouth", "seed": 1e308}', "'seed' must be a whole number"),
        ('{"scenario": "word_of_mouth", "seed": 123456789012345678901234567890}', "'seed' must be"),
        ('{"scenario": "word_of_mouth", "params": {"media": -0.0000001e-400}}', "'media'"),
        ('{"scenario": "word_of_mouth", "params": {"media": Infinity}}', "malformed JSON"),
        ('1e999', "the request"),
    ],
)
def test_numbers_out_of_range_get_400_naming_the_field(server, raw_body, field):
    status, headers, data = post_raw(server, raw_body.encode())
    if status == 200:  # -1e-407 reads as -0.0: a valid value
        assert "-0.0000001e-400" in raw_body
        return
    message = assert_refused(status, headers, data, 400)
    assert field in message, message


@pytest.mark.parametrize(
    "ctype, expected",
    [
        (b"application/json", 200),
        (b"application/json; charset=utf-8", 200),
        (b"Application/JSON;charset=\"UTF-8\"", 200),
        (b"application/json ; foo=bar", 200),
        (b"application/jsonx", 415),
        (b"application/json-seq", 415),
        (b"application/json; charset=latin-1", 415),
        (b"application/json; charset", 415),
        (b"text/json", 415),
        (b"application/x-www-form-urlencoded", 415),
        (b"multipart/form-data; boundary=x", 415),
        (b"", 415),
    ],
)
def test_only_json_is_accepted(server, ctype, expected):
    status, headers, data = post_raw(server, json.dumps(SMALL).encode(), ctype=ctype)
    if expected == 200:
        assert status == 200, data[:300]
    else:
        assert "JSON" in assert_refused(status, headers, data, 415)


def test_no_content_type_is_415(server):
    body = json.dumps(SMALL).encode()
    req = (b"POST /api/run HTTP/1.1\r\nHost: " + host(server) + b"\r\nContent-Length: " +
           str(len(body)).encode() + b"\r\n\r\n" + body)
    assert_refused(*raw(server, req), 415)


@pytest.mark.parametrize(
    "headers, expected",
    [
        ({"Host": "evil.example"}, 403),
        ({"Host": "evil.example:{port}"}, 403),
        ({"Host": "127.0.0.1"}, 403),
        ({"Host": "127.0.0.1:1"}, 403),
        ({"Host": "127.0.0.1.evil.example:{port}"}, 403),
        ({"Host": "localhost:{port}"}, 200),
        ({"Host": "LOCALHOST:{port}"}, 200),
        ({"Host": "[::1]:{port}"}, 200),
        ({"Origin": "http://evil.example"}, 403),
        ({"Origin": "null"}, 403),
        ({"Origin": "http://127.0.0.1:{port}.evil.example"}, 403),
        ({"Origin": "https://127.0.0.1:{port}"}, 403),
        ({"Origin": "http://127.0.0.1:{port}"}, 200),
        ({"Origin": "http://localhost:{port}"}, 200),
    ],
)
def test_other_hosts_and_origins_are_refused(server, headers, expected):
    h = {k: v.format(port=server.port) for k, v in headers.items()}
    for method, path, body in [("POST", "/api/run", json.dumps(SMALL)), ("GET", "/api/scenarios", None)]:
        status, rh, data = server.request(method, path, body,
                                          {"Content-Type": "application/json", **h})
        if expected == 200:
            assert status == 200, (h, data[:200])
        else:
            assert_refused(status, {k.lower(): v for k, v in rh.items()}, data, expected)


def test_missing_host_is_400(server):
    assert_refused(*raw(server, b"GET /api/scenarios HTTP/1.1\r\n\r\n"), 400)


def test_chunked_bodies_are_decoded_and_bounded(server):
    body = json.dumps(SMALL).encode()
    chunks = b"".join(b"%x\r\n%s\r\n" % (len(body[i:i + 7]), body[i:i + 7])
                      for i in range(0, len(body), 7))
    head = (b"POST /api/run HTTP/1.1\r\nHost: " + host(server) +
            b"\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n")
    status, _, data = raw(server, head + chunks + b"0\r\n\r\n")
    assert status == 200, data[:300]
    # Chunks that add up to more than 16 KiB: 413, like a plain body.
    big = b"4000\r\n" + b" " * 0x4000 + b"\r\n" + b"1\r\n \r\n0\r\n\r\n"
    assert "16 KiB" in assert_refused(*raw(server, head + big), 413)
    assert_refused(*raw(server, head + b"zz\r\n"), 400)
    assert_refused(*raw(server, head + b"ffffffffffffffffffff\r\n"), 413)
    te = head.replace(b"chunked", b"gzip, chunked")
    assert "not supported" in assert_refused(*raw(server, te + chunks + b"0\r\n\r\n"), 400)


def test_a_200_mb_chunked_body_is_refused_without_reading_it(server):
    head = (b"POST /api/run HTTP/1.1\r\nHost: " + host(server) +
            b"\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n")
    chunk = b"10000\r\n" + b"[" * 0x10000 + b"\r\n"  # 64 KiB chunks
    total = 200 * 1024 * 1024
    sent = 0
    answer = b""
    with socket.create_connection((server.host, server.port), timeout=10) as s:
        s.sendall(head)
        s.setblocking(False)
        t0 = time.monotonic()
        while sent < total and time.monotonic() - t0 < 20:
            try:
                data = s.recv(65536)
                if data:
                    answer += data
                if b"\r\n\r\n" in answer or not data:
                    break
            except BlockingIOError:
                pass
            except ConnectionError:
                break
            try:
                sent += s.send(chunk)
            except BlockingIOError:
                time.sleep(0.01)
            except (BrokenPipeError, ConnectionError):
                break
        s.setblocking(True)
        s.settimeout(5)
        try:
            while b"\r\n\r\n" not in answer:
                data = s.recv(65536)
                if not data:
                    break
                answer += data
        except (ConnectionError, socket.timeout):
            pass
    assert answer.startswith(b"HTTP/1.1 413"), (sent, answer[:200])
    assert sent < 16 * 1024 * 1024, f"the server read {sent} bytes before refusing"
    assert server.alive()


def test_a_body_larger_than_16_kib_is_refused_before_it_is_sent(server):
    # With "Expect: 100-continue" the client waits: the 413 comes without the body.
    req = (b"POST /api/run HTTP/1.1\r\nHost: " + host(server) + b"\r\nContent-Type: "
           b"application/json\r\nContent-Length: 209715200\r\nExpect: 100-continue\r\n\r\n")
    assert "16 KiB" in assert_refused(*raw(server, req), 413)


@pytest.mark.parametrize(
    "req, expected",
    [
        (b"GET /\xff\xfe\x80 HTTP/1.1\r\nHost: {host}\r\n\r\n", 404),
        (b"GET /%ff%fe%c3 HTTP/1.1\r\nHost: {host}\r\n\r\n", 404),
        (b"GET /api/scenarios?q=\xff\xc3 HTTP/1.1\r\nHost: {host}\r\n\r\n", 200),
        (b"GET /%zz HTTP/1.1\r\nHost: {host}\r\n\r\n", 400),
        (b"GET /index.html%00 HTTP/1.1\r\nHost: {host}\r\n\r\n", 400),
        (b"GET /api/scenarios HTTP/1.1\r\nHost: {host}\r\nX-Name: \xff\xfe\xc3\r\n\r\n", 200),
        (b"GET /api/scenarios HTTP/1.1\r\nHost: {host}\r\nX-\xff: 1\r\n\r\n", 400),
        (b"GET /api/scenarios HTTP/1.1\r\nHost: \xff\xc3:{port}\r\n\r\n", 403),
        (b"GET /api/scenarios HTTP/1.1\r\nHost: {host}\r\nOrigin: http://\xff\r\n\r\n", 403),
        (b"\xff\xfe\xfd /api/scenarios HTTP/1.1\r\nHost: {host}\r\n\r\n", 400),
        (b"GET /api/scenarios HTTP/9.9\r\nHost: {host}\r\n\r\n", 400),
        (b"GET /api/scenarios\r\nHost: {host}\r\n\r\n", 400),
        (b"GET http://evil.example/ HTTP/1.1\r\nHost: {host}\r\n\r\n", 400),
        (b"GET /api/scenarios HTTP/1.1\r\nHost: {host}\r\n folded: yes\r\n\r\n", 400),
        (b"GET /api/scenarios HTTP/1.1\r\nHost: {host}\r\nHost: {host}\r\n\r\n", 400),
        (b"GET /api/scenarios HTTP/1.1\r\nHost: {host}\r\nX: \x01\r\n\r\n", 400),
        (b"POST /api/run HTTP/1.1\r\nHost: {host}\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n", 400),
        (b"POST /api/run HTTP/1.1\r\nHost: {host}\r\nContent-Length: -1\r\n\r\n", 400),
        (b"POST /api/run HTTP/1.1\r\nHost: {host}\r\nContent-Length: 99999999999999999999999\r\n\r\n", 400),
        (b"POST /api/run HTTP/1.1\r\nHost: {host}\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n", 400),
        (b"POST /api/run HTTP/1.1\r\nHost: {host}\r\nExpect: magic\r\n\r\n", 417),
        (b"OPTIONS /api/run HTTP/1.1\r\nHost: {host}\r\n\r\n", 405),
        (b"DELETE / HTTP/1.1\r\nHost: {host}\r\n\r\n", 405),
        (b"POST /index.html HTTP/1.1\r\nHost: {host}\r\nContent-Length: 0\r\n\r\n", 405),
        (b"GET / HTTP/1.1\r\nHost: {host}\r\nX-Long: " + b"x" * 9000 + b"\r\n\r\n", 431),
        (b"GET / HTTP/1.1\r\nHost: {host}\r\n" + b"X: 1\r\n" * 100 + b"\r\n", 431),
        (b"GET /" + b"a" * 9000 + b" HTTP/1.1\r\nHost: {host}\r\n\r\n", 431),
    ],
)
def test_malformed_http_gets_a_json_4xx(server, req, expected):
    req = req.replace(b"{host}", host(server)).replace(b"{port}", str(server.port).encode())
    status, headers, body = raw(server, req)
    if expected == 200:
        assert status == 200
    else:
        assert_refused(status, headers, body, expected)


def test_nested_and_huge_json_get_400_or_413(server):
    status, headers, data = post_raw(server, b"[" * 8000 + b"]" * 8000)
    assert "nested" in assert_refused(status, headers, data, 400)
    status, headers, data = post_raw(server, b'{"scenario": "word_of_mouth", "x": ' +
                                     b'{"a":' * 40 + b"1" + b"}" * 40 + b"}")
    assert "nested" in assert_refused(status, headers, data, 400)
    status, headers, data = post_raw(server, b"[" * 20000)
    assert_refused(status, headers, data, 413)
    status, headers, data = post_raw(server, b"[" + b"1," * 8000 + b"1]")
    assert_refused(status, headers, data, 400)


# --- slow and many clients ------------------------------------------------------------------

def slow_sockets(server, n, first=b"POST /api/run HTTP/1.1\r\n"):
    socks = []
    for _ in range(n):
        s = socket.create_connection((server.host, server.port), timeout=5)
        s.sendall(first[:1])
        socks.append(s)
    return socks


def test_seventy_slow_clients_do_not_stop_the_server(make_server):
    s = hostile_server(make_server)
    status, _, _ = s.run(SMALL)
    assert status == 200
    # 70 clients each sending one header byte every half second (never a whole head).
    head = b"POST /api/run HTTP/1.1\r\nHost: " + host(s) + b"\r\nX-Slow: " + b"s" * 200
    socks = slow_sockets(s, 70, head)
    sent = [1] * len(socks)
    times = []
    t_end = time.monotonic() + READ + 1.0
    while time.monotonic() < t_end:
        for i, sock in enumerate(socks):
            try:
                sock.sendall(head[sent[i]:sent[i] + 1])
                sent[i] += 1
            except OSError:
                pass
        status, body, took = timed_run(s)
        assert status == 200, body
        times.append(took)
        time.sleep(0.3)
    assert max(times) < 1.0, times
    # Each slow client got a 408 once its headers took longer than READ seconds.
    refused = 0
    for sock in socks:
        try:
            status, headers, body = read_response(sock, timeout=3)
            assert "headers did not arrive" in assert_refused(status, headers, body, 408)
            refused += 1
        except (ConnectionError, OSError):
            pass
        sock.close()
    assert refused >= 60, refused
    assert s.alive()


def test_a_slow_body_gets_408(make_server):
    s = hostile_server(make_server)
    with socket.create_connection((s.host, s.port), timeout=10) as sock:
        sock.sendall(b"POST /api/run HTTP/1.1\r\nHost: " + host(s) +
                     b"\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{")
        t0 = time.monotonic()
        for _ in range(4):
            time.sleep(0.5)
            try:
                sock.sendall(b" ")
            except OSError:
                break
        status, headers, body = read_response(sock)
        assert "body did not arrive" in assert_refused(status, headers, body, 408)
        assert time.monotonic() - t0 < READ + 1.5


def test_a_full_server_answers_503_and_makes_room_for_new_clients(make_server):
    s = hostile_server(make_server, CSEI_WORKSHOP_MAX_CONNECTIONS=8)
    socks = slow_sockets(s, 8)
    time.sleep(0.2)
    status, headers, body = raw(s, b"GET /api/status HTTP/1.1\r\nHost: " + host(s) + b"\r\n\r\n")
    assert status == 503 and headers.get("retry-after") == "2", (status, body)
    assert "full" in json.loads(body)["error"]
    # Once a waiting client has waited for a second, it makes room for a new one.
    time.sleep(1.1)
    status, _, body = s.run(SMALL)
    assert status == 200, body
    for sock in socks:
        sock.close()


def test_per_client_connection_limit(make_server):
    s = hostile_server(make_server, CSEI_WORKSHOP_MAX_PER_CLIENT=4)
    socks = slow_sockets(s, 4)
    time.sleep(0.2)
    status, _, body = raw(s, b"GET /api/status HTTP/1.1\r\nHost: " + host(s) + b"\r\n\r\n")
    assert status == 503 and "too many connections from 127.0.0.1" in json.loads(body)["error"]
    for sock in socks:
        sock.close()
    time.sleep(0.2)
    status, _, _ = s.run(SMALL)
    assert status == 200


def test_bad_limits_in_the_environment_are_refused():
    with pytest.raises(RuntimeError, match="CSEI_WORKSHOP_READ_SECONDS"):
        WorkshopServer(env={"CSEI_WORKSHOP_READ_SECONDS": "0"})


# --- the guarantee --------------------------------------------------------------------------

RSS_GROWTH_BOUND_KIB = 16 * 1024


def test_hostile_suite_then_a_normal_run_within_a_second(make_server):
    s = hostile_server(make_server)
    for payload in (SMALL, {"scenario": "eu_clusters", "steps": 12}):
        status, _, _ = s.run(payload)
        assert status == 200
    rss_before = rss_kib(s.proc.pid)
    rng = random.Random(7)
    h = host(s)
    answers = []

    def check(status, headers, body):
        assert status < 500, (status, body[:200])
        if status >= 400:
            assert_refused(status, headers, body)
        answers.append(status)

    bad = [b"\xff", b"\xc3", b"\xed\xa0\x80", b"\xf4\x90\x80\x80", b"\xc0\xaf", b"\x80",
           b"a" * 39 + "é".encode(), b"\x00"]
    for b in bad:
        check(*raw(s, b"GET /" + b + b"?" + b + b"=" + b + b" HTTP/1.1\r\nHost: " + h +
                   b"\r\nX-" + b"a: " + b + b"\r\nUser-Agent: " + b + b"\r\n\r\n"))
        check(*raw(s, b"GET /api/export/r1" + b + b".h5 HTTP/1.1\r\nHost: " + h + b"\r\n\r\n"))
        check(*raw(s, b"GET / HTTP/1.1\r\nHost: " + b + h + b"\r\nOrigin: http://" + b +
                   b"\r\n\r\n"))
        check(*post_raw(s, b'{"' + b + b'": "' + b + b'"}'))
        check(*post_raw(s, b'{"scenario": "' + b + b'"}'))
        check(*post_raw(s, b'{"scenario": "word_of_mouth", "params": {"' + b + b'": 1}}'))
        check(*post_raw(s, b'{"scenario": "word_of_mouth"}', ctype=b"application/json; charset=" + b))
        check(*post_raw(s, b'{"scenario": "word_of_mouth"}', extra=b"Origin: " + b + b"\r\n"))
    # Random bytes in every part of a request.
    for _ in range(300):
        junk = bytes(rng.randrange(256) for _ in range(rng.randrange(1, 200)))
        part = rng.randrange(4)
        if part == 0:
            req = junk + b"\r\n\r\n"
        elif part == 1:
            req = b"GET /" + junk.replace(b"\r\n", b"") + b" HTTP/1.1\r\nHost: " + h + b"\r\n\r\n"
        elif part == 2:
            req = (b"GET / HTTP/1.1\r\nHost: " + h + b"\r\nX: " +
                   junk.replace(b"\r", b"").replace(b"\n", b"") + b"\r\n\r\n")
        else:
            req = (b"POST /api/run HTTP/1.1\r\nHost: " + h + b"\r\nContent-Type: application/json"
                   b"\r\nContent-Length: " + str(len(junk)).encode() + b"\r\n\r\n" + junk)
        check(*raw(s, req))
    # Huge and deep JSON, chunked bodies.
    check(*post_raw(s, b"[" * 16000))
    check(*post_raw(s, b"[" * 8000 + b"]" * 8000))
    check(*post_raw(s, b'{"scenario": "word_of_mouth", "params": {' +
                    b",".join(b'"p%d": %d' % (i, i) for i in range(1500)) + b"}}"))
    chunked = (b"POST /api/run HTTP/1.1\r\nHost: " + h + b"\r\nContent-Type: application/json"
               b"\r\nTransfer-Encoding: chunked\r\n\r\n")
    check(*raw(s, chunked + b"1;" + b"e" * 2000 + b"\r\n{\r\n0\r\n\r\n"))
    check(*raw(s, chunked + b"3fff\r\n" + b"[" * 0x3fff + b"\r\n2\r\n[[\r\n0\r\n\r\n"))
    check(*raw(s, chunked + b"1\r\n{\r\n0\r\nX-Trailer: " + b"t" * 9000 + b"\r\n\r\n"))
    # Slow headers, slow bodies and many idle connections, all at once.
    slow = slow_sockets(s, 40)
    slow_body = []
    for _ in range(20):
        sock = socket.create_connection((s.host, s.port), timeout=5)
        sock.sendall(b"POST /api/run HTTP/1.1\r\nHost: " + h +
                     b"\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{")
        slow_body.append(sock)
    # More than the 256 connections one client may hold: the newest are refused (503) until the
    # waiting ones have waited a second, then they make room.
    idle = [socket.create_connection((s.host, s.port), timeout=5) for _ in range(300)]
    time.sleep(1.1)
    # Wrong Host and Origin, on top.
    for bad_host in (b"evil.example", b"127.0.0.1", b"localhost:1", b"" + b"x" * 3000):
        check(*raw(s, b"GET /api/scenarios HTTP/1.1\r\nHost: " + bad_host + b"\r\n\r\n"))
    check(*post_raw(s, json.dumps(SMALL).encode(), extra=b"Origin: http://evil.example\r\n"))
    # A normal run while all of this is open, and again once it is gone.
    status, body, took = timed_run(s)
    assert status == 200 and took < 1.0, (status, took)
    for sock in slow + slow_body + idle:
        sock.close()
    time.sleep(0.3)
    status, body, took = timed_run(s)
    assert status == 200, body
    assert took < 1.0, took
    assert s.alive()
    rss_after = rss_kib(s.proc.pid)
    print(f"\nhostile suite: {len(answers)} answers, statuses {sorted(set(answers))}; "
          f"RSS {rss_before} KiB before, {rss_after} KiB after")
    assert rss_after - rss_before < RSS_GROWTH_BOUND_KIB, (rss_before, rss_after)


@pytest.mark.xfail(reason="known defect: after a pipelined POST /api/run the server closes the "
                   "connection before answering the pipelined HEAD request", strict=False)
def test_pipelined_and_head_requests_are_answered_in_order(server):
    body = json.dumps(SMALL).encode()
    with socket.create_connection((server.host, server.port), timeout=10) as s:
        s.sendall(b"GET /api/status HTTP/1.1\r\nHost: " + host(server) + b"\r\n\r\n"
                  b"POST /api/run HTTP/1.1\r\nHost: " + host(server) +
                  b"\r\nContent-Type: application/json\r\nContent-Length: " +
                  str(len(body)).encode() + b"\r\n\r\n" + body +
                  b"HEAD / HTTP/1.1\r\nHost: " + host(server) + b"\r\n\r\n"
                  b"GET /nothing HTTP/1.1\r\nHost: " + host(server) + b"\r\nConnection: close\r\n\r\n")
        status, _, data = read_response(s)
        assert status == 200 and "workers" in json.loads(data)
        status, _, data = read_response(s)
        assert status == 200 and json.loads(data)["scenario"] == "word_of_mouth"
        s.settimeout(10)
        rest = b""
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            rest += chunk
    head, _, after = rest.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200") and b"Content-Length: " in head
    # HEAD: the headers of the page, no body; then the 404, and the connection closes.
    status, headers, data = parse_response(after)
    assert status == 404 and headers["connection"] == "close"
    assert "not found" in json.loads(data)["error"]
