"""mqtt-auth-admin against a real redis-server: every endpoint, 401 without a token, 400 on
bad input, 404/409, the certificate bundle zip, and the SSE tail."""
import base64
import hashlib
import io
import json
import os
import socket
import subprocess
import time
import urllib.error
import urllib.request
import zipfile

import harness

ADMIN_BIN = os.path.join(harness.BIN_DIR, "mqtt-auth-admin")
TOKEN = "test-admin-token-0123456789"


def mosquitto_hash(secret, iterations=101):
    """A $7$ PBKDF2-SHA512 hash, as mosquitto_passwd writes it."""
    salt = os.urandom(12)
    digest = hashlib.pbkdf2_hmac("sha512", secret.encode(), salt, iterations)
    return f"$7${iterations}${base64.b64encode(salt).decode()}${base64.b64encode(digest).decode()}"


class AdminProcess(harness.Process):
    """mqtt-auth-admin --config |config_path|, whose `admin.bind` is 127.0.0.1:|port|."""

    def __init__(self, workdir, config_path, port):
        self.port = port
        self.config_path = config_path
        super().__init__("admin", [ADMIN_BIN, "--config", config_path], workdir)

    def start(self):
        super().start()
        harness.wait_port(self.port, proc=self.proc)
        return self

    @property
    def url(self):
        return f"http://127.0.0.1:{self.port}"


class Admin(AdminProcess):
    """mqtt-auth-admin reading the proxy's YAML with an `admin:` section appended. |redis|
    needs only `.url` (redis:// or sentinel://)."""

    def __init__(self, workdir, pki, redis, tokens):
        port = harness.free_port()
        token_lines = "".join(f"    - {{name: {name}, hash: \"{mosquitto_hash(value)}\"}}\n"
                              for name, value in tokens.items())
        extra = (f"admin:\n  bind: \"127.0.0.1:{port}\"\n  ca_dir: {pki.dir}\n"
                 f"  tokens:\n{token_lines}")
        proxy = harness.Proxy(workdir, pki, redis, [harness.closed_port()], extra_yaml=extra)
        super().__init__(workdir, proxy.config_path, port)


def start_admin(test, tokens=None):
    test.redis = test.started(harness.Redis(test.workdir))
    test.admin = test.started(Admin(test.workdir, test.pki, test.redis,
                                     tokens or {"ops": TOKEN}))
    return test.admin


def call(admin, method, path, body=None, token=TOKEN, raw=None, headers=None):
    """(status, parsed JSON or raw bytes, headers)."""
    data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
    request = urllib.request.Request(admin.url + path, data=data, method=method)
    if token is not None:
        request.add_header("Authorization", "Bearer " + token)
    if data is not None:
        request.add_header("Content-Type", "application/json")
    for k, v in (headers or {}).items():
        request.add_header(k, v)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            status, payload, hdrs = response.status, response.read(), response.headers
    except urllib.error.HTTPError as error:
        status, payload, hdrs = error.code, error.read(), error.headers
    if hdrs.get("Content-Type", "").startswith("application/json"):
        payload = json.loads(payload)
    return status, payload, hdrs


class AdminApiTest(harness.IntegrationTest):
    def setUp(self):
        super().setUp()
        start_admin(self)

    def test_every_api_endpoint_needs_a_valid_token_and_logs_only_its_name(self):
        for method, path in [("GET", "/api/devices"), ("POST", "/api/devices"),
                             ("GET", "/api/devices/d1"), ("PATCH", "/api/devices/d1"),
                             ("DELETE", "/api/devices/d1"), ("POST", "/api/devices/d1/key"),
                             ("GET", "/api/certs"), ("POST", "/api/certs"),
                             ("POST", "/api/certs/import"), ("GET", "/api/certs/c"),
                             ("PATCH", "/api/certs/c"), ("POST", "/api/certs/c/bind"),
                             ("POST", "/api/certs/c/unbind"), ("DELETE", "/api/certs/c"),
                             ("GET", "/api/sessions"), ("POST", "/api/sessions/d1/kick"),
                             ("GET", "/api/events"), ("GET", "/api/events/stream")]:
            for token in (None, "wrong-token"):
                with self.subTest(method=method, path=path, token=token):
                    status, body, headers = call(self.admin, method, path, {}, token=token)
                    self.assertEqual(status, 401)
                    self.assertIn("Bearer", headers.get("WWW-Authenticate", ""))
        self.assertEqual(call(self.admin, "GET", "/api/devices")[0], 200)
        log = self.admin.log()
        self.assertIn("token=ops", log)
        self.assertNotIn(TOKEN, log)
        self.assertNotIn("wrong-token", log)

    def test_console_is_served_without_external_assets(self):
        status, body, headers = call(self.admin, "GET", "/", token=None)
        self.assertEqual(status, 200)
        self.assertTrue(headers["Content-Type"].startswith("text/html"))
        self.assertIn(b"sessionStorage", body)
        self.assertNotIn(b"src=\"http", body)

    def test_devices_create_get_list_page_update_key_delete(self):
        status, created, headers = call(self.admin, "POST", "/api/devices",
                                        {"id": "dev-1", "username": "u1",
                                         "labels": {"tenant": "acme"}})
        self.assertEqual(status, 201)
        self.assertRegex(created["key"], "^[0-9a-f]{32}$")
        self.assertEqual(headers["Cache-Control"], "no-store")
        status, device, _ = call(self.admin, "GET", "/api/devices/dev-1")
        self.assertEqual(status, 200)
        self.assertEqual((device["username"], device["auth"], device["enabled"]),
                         ("u1", "token", True))
        self.assertEqual(device["labels"], {"tenant": "acme"})
        self.assertTrue(device["secret_set"])
        self.assertNotIn("secret", json.dumps(device).replace("secret_set", ""))
        self.assertIsNone(device["session"])
        self.assertEqual(call(self.admin, "POST", "/api/devices",
                              {"id": "dev-1", "username": "u1"})[0], 409)
        status, cert_dev, _ = call(self.admin, "POST", "/api/devices",
                                   {"id": "dev-2", "username": "u2", "auth": "cert"})
        self.assertEqual(status, 201)
        self.assertNotIn("key", cert_dev)
        for i in range(3):
            call(self.admin, "POST", "/api/devices", {"id": f"other-{i}", "username": "x",
                                                      "key": "k"})

        status, page, _ = call(self.admin, "GET", "/api/devices?prefix=dev-")
        self.assertEqual([d["id"] for d in page["devices"]], ["dev-1", "dev-2"])
        self.assertIsNone(page["next_cursor"])
        ids, cursor = [], ""
        while True:
            status, page, _ = call(self.admin, "GET", f"/api/devices?limit=2&cursor={cursor}")
            ids += [d["id"] for d in page["devices"]]
            if page["next_cursor"] is None:
                break
            cursor = page["next_cursor"]
        self.assertEqual(ids, ["dev-1", "dev-2", "other-0", "other-1", "other-2"])

        status, updated, _ = call(self.admin, "PATCH", "/api/devices/dev-1",
                                  {"username": "u1b", "labels": {"tenant": None, "product": "m"},
                                   "enabled": False})
        self.assertEqual(status, 200)
        self.assertEqual((updated["username"], updated["enabled"], updated["labels"]),
                         ("u1b", False, {"product": "m"}))
        self.assertEqual(self.redis.cli("HGET", "mqttauth:device:dev-1", "enabled"), "0")

        status, key, _ = call(self.admin, "POST", "/api/devices/dev-1/key", {})
        self.assertEqual(status, 200)
        self.assertRegex(key["key"], "^[0-9a-f]{32}$")
        status, key, _ = call(self.admin, "POST", "/api/devices/dev-1/key", {"key": "chosen"})
        self.assertEqual((status, "key" in key), (200, False))
        self.assertEqual(call(self.admin, "POST", "/api/devices/dev-2/key", {})[0], 409)

        self.assertEqual(call(self.admin, "DELETE", "/api/devices/dev-1")[0], 200)
        self.assertEqual(call(self.admin, "GET", "/api/devices/dev-1")[0], 404)
        self.assertEqual(call(self.admin, "DELETE", "/api/devices/dev-1")[0], 404)
        self.assertEqual(call(self.admin, "PATCH", "/api/devices/nope", {"enabled": True})[0], 404)

    def test_bad_input_is_400_naming_the_field(self):
        cases = [
            ("POST", "/api/devices", {"username": "u"}, "id"),
            ("POST", "/api/devices", {"id": "a b", "username": "u"}, "id"),
            ("POST", "/api/devices", {"id": 5, "username": "u"}, "id"),
            ("POST", "/api/devices", {"id": "x" * 300, "username": "u"}, "id"),
            ("POST", "/api/devices", {"id": "d", "username": ""}, "username"),
            ("POST", "/api/devices", {"id": "d", "username": "u", "auth": "magic"}, "auth"),
            ("POST", "/api/devices", {"id": "d", "username": "u", "labels": {"secret": "x"}},
             "labels"),
            ("POST", "/api/devices", {"id": "d", "username": "u", "labels": {"a": 1}}, "labels"),
            ("POST", "/api/devices", {"id": "d", "username": "u", "labels": []}, "labels"),
            ("PATCH", "/api/devices/d", {"enabled": "yes"}, "enabled"),
            ("PATCH", "/api/devices/d", {}, "body"),
            ("POST", "/api/certs", {"name": "../x"}, "name"),
            ("POST", "/api/certs", {"name": "ok", "key": "dsa"}, "key"),
            ("POST", "/api/certs", {"name": "ok", "days": 0}, "days"),
            ("POST", "/api/certs", {"name": "ok", "enabled": 1}, "enabled"),
            ("POST", "/api/certs/import", {"name": "imp", "pem": "garbage"}, "pem"),
            ("POST", "/api/certs/import", {"name": "imp"}, "pem"),
            ("PATCH", "/api/certs/c", {}, "enabled"),
            ("POST", "/api/certs/c/bind", {"devices": []}, "devices"),
            ("POST", "/api/certs/c/bind", {"devices": ["a b"]}, "devices"),
            ("POST", "/api/certs/c/unbind", {"devices": "d"}, "devices"),
        ]
        for method, path, body, field in cases:
            with self.subTest(method=method, path=path, body=body):
                status, reply, _ = call(self.admin, method, path, body)
                self.assertEqual(status, 400, reply)
                self.assertEqual(reply["field"], field)
                self.assertTrue(reply["error"])
        for raw, field in [(b"{", "body"), (b"[1]", "body"), (b"[" * 40 + b"]" * 40, "body")]:
            status, reply, _ = call(self.admin, "POST", "/api/devices", raw=raw)
            self.assertEqual((status, reply["field"]), (400, field))
        status, reply, _ = call(self.admin, "POST", "/api/devices", raw=b" " * (65 * 1024))
        self.assertEqual(status, 413)
        for path, field in [("/api/devices?limit=0", "limit"), ("/api/devices?limit=x", "limit"),
                            ("/api/events?count=5000", "count"),
                            ("/api/devices/a%20b", "id")]:
            status, reply, _ = call(self.admin, "GET", path)
            self.assertEqual((status, reply.get("field")), (400, field), path)
        self.assertEqual(call(self.admin, "GET", "/api/nothing")[0], 404)
        self.assertEqual(call(self.admin, "PUT", "/api/devices", {})[0], 405)

    def test_certificates_create_bundle_bind_toggle_delete_import(self):
        status, bundle, headers = call(self.admin, "POST", "/api/certs",
                                       {"name": "fleet", "enabled": False, "days": 30})
        self.assertEqual(status, 201)
        self.assertEqual(headers["Content-Type"], "application/zip")
        self.assertIn("fleet_certs.zip", headers["Content-Disposition"])
        cert_id = headers["X-Cert-Id"]
        archive = zipfile.ZipFile(io.BytesIO(bundle))
        self.assertEqual(sorted(archive.namelist()),
                         ["fleet_certs/fleet.crt", "fleet_certs/fleet.key",
                          "fleet_certs/root_ca.crt"])
        self.assertIn(b"PRIVATE KEY", archive.read("fleet_certs/fleet.key"))
        with open(self.pki.ca, "rb") as f:
            self.assertEqual(archive.read("fleet_certs/root_ca.crt"), f.read())
        # The key is nowhere on the server: neither in Redis nor in the CA folder.
        self.assertNotIn("fleet", " ".join(os.listdir(self.pki.dir)))
        self.assertEqual(call(self.admin, "POST", "/api/certs", {"name": "fleet"})[0], 409)

        status, certs, _ = call(self.admin, "GET", "/api/certs")
        self.assertEqual([(c["id"], c["name"], c["enabled"]) for c in certs["certs"]],
                         [(cert_id, "fleet", False)])
        call(self.admin, "POST", "/api/devices", {"id": "m1", "username": "m1", "auth": "cert"})
        self.assertEqual(call(self.admin, "POST", f"/api/certs/{cert_id}/bind",
                              {"devices": ["m1", "ghost"]})[0], 404)
        status, cert, _ = call(self.admin, "POST", "/api/certs/fleet/bind", {"devices": ["m1"]})
        self.assertEqual((status, cert["devices"]), (200, ["m1"]))
        self.assertEqual(call(self.admin, "GET", "/api/devices/m1")[1]["certs"], [cert_id])
        status, cert, _ = call(self.admin, "PATCH", f"/api/certs/{cert_id}", {"enabled": True})
        self.assertEqual((status, cert["enabled"]), (200, True))
        self.assertEqual(call(self.admin, "DELETE", f"/api/certs/{cert_id}")[0], 409)
        status, cert, _ = call(self.admin, "POST", f"/api/certs/{cert_id}/unbind",
                               {"devices": ["m1"]})
        self.assertEqual((status, cert["devices"]), (200, []))
        self.assertEqual(call(self.admin, "DELETE", f"/api/certs/{cert_id}")[0], 200)
        self.assertEqual(call(self.admin, "GET", f"/api/certs/{cert_id}")[0], 404)

        pem = archive.read("fleet_certs/fleet.crt").decode()
        status, imported, _ = call(self.admin, "POST", "/api/certs/import",
                                   {"name": "again", "pem": pem})
        self.assertEqual((status, imported["id"], imported["name"]), (201, cert_id, "again"))
        self.assertEqual(call(self.admin, "POST", "/api/certs/import",
                              {"name": "again2", "pem": pem})[0], 409)

    def test_sessions_kick_events_and_stream(self):
        self.redis.cli("HSET", "mqttauth:session:s1", "node", "n1", "listener", "cert",
                       "peer", "127.0.0.1:5555", "connected_at", "1700000000")
        status, sessions, _ = call(self.admin, "GET", "/api/sessions")
        self.assertEqual(sessions["sessions"],
                         [{"device_id": "s1", "node": "n1", "listener": "cert",
                           "peer": "127.0.0.1:5555", "connected_at": "1700000000"}])
        status, kicked, _ = call(self.admin, "POST", "/api/sessions/s1/kick")
        self.assertEqual((status, kicked["kicked"]), (200, "s1"))
        self.assertEqual(call(self.admin, "POST", "/api/sessions/none/kick")[0], 404)

        for i in range(5):
            self.redis.cli("XADD", "mqttauth:events", "*", "type", "connect", "device",
                           f"d{i % 2}", "listener", "token")
        status, events, _ = call(self.admin, "GET", "/api/events?count=3")
        self.assertEqual(len(events["events"]), 3)
        self.assertEqual(events["events"][0]["device"], "d0")  # newest first
        status, events, _ = call(self.admin, "GET", "/api/events?device=d1")
        self.assertEqual([e["device"] for e in events["events"]], ["d1", "d1"])

        sock = socket.create_connection(("127.0.0.1", self.admin.port), timeout=5)
        self.addCleanup(sock.close)
        sock.sendall(f"GET /api/events/stream HTTP/1.1\r\nHost: x\r\n"
                     f"Authorization: Bearer {TOKEN}\r\n\r\n".encode())
        received = b""
        while b": connected" not in received:
            received += sock.recv(4096)
        self.assertIn(b"text/event-stream", received)
        self.redis.cli("XADD", "mqttauth:events", "*", "type", "kicked", "device", "live-1")
        deadline = time.monotonic() + 3
        while b"live-1" not in received and time.monotonic() < deadline:
            received += sock.recv(4096)
        self.assertIn(b"data: {", received)
        self.assertIn(b"\"device\":\"live-1\"", received)
        self.assertNotIn(b"\"device\":\"d0\"", received)  # the tail starts after the newest


if __name__ == "__main__":
    import unittest
    unittest.main()
