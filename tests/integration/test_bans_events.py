"""Issue 4: brute-force bans (20 wrong keys from one IP → 5 / 0x8A, another source address
unaffected, the ban ends), the `events` stream, `mqtt-authctl sessions` and `kick`."""
import json
import socket
import subprocess
import time
import unittest

import paho.mqtt.client as paho

from harness import wait_until
from mtls_util import PREFIX, MtlsTest, authctl

V311, V5 = 4, 5
OTHER_ADDRESS = "127.0.0.2"


class BanTest(MtlsTest):
    def test_twenty_wrong_keys_ban_the_ip_but_not_another_address(self):
        # The numbers are the defaults (20 per IP and per device); only the ban is
        # shortened so the test can see it end.
        self.start_mtls_stack(auth_failures={"ban": "4s"})
        tok = self.proxy.token_port
        for device in ("victim", "good"):
            authctl(self.redis, "device", "add", device, "--username", "acme", "--key", "right")
        for attempt in range(20):
            self.assertEqual(self.raw_code("victim", "acme", f"wrong-{attempt}", V311, port=tok),
                             4, f"wrong key #{attempt + 1}")
        banned_at = time.monotonic()
        # The right key no longer helps from this IP, nor another device's right key.
        for version, code in ((V311, 5), (V5, 0x8A)):
            with self.subTest(version=version):
                self.assertEqual(self.raw_code("victim", "acme", "right", version, port=tok), code)
                self.assertEqual(self.raw_code("good", "acme", "right", version, port=tok), code)
        self.assertTrue(self.proxy_log_has("reason=banned"))
        # Another source address with a good device is unaffected, and can publish.
        self.assertEqual(self.raw_code("good", "acme", "right", V5, port=tok,
                                       source_address=(OTHER_ADDRESS, 0)), 0)
        good = self.session("good", "acme", "right", protocol=paho.MQTTv5,
                            bind_address=OTHER_ADDRESS)
        self.assertEqual(good.connack, 0)
        self.assertEqual(good.round_trip("good/1", b"fine"), b"fine")
        good.close()
        # The device that was guessed at is banned too (max_per_device), from anywhere.
        self.assertEqual(self.raw_code("victim", "acme", "right", V311, port=tok,
                                       source_address=(OTHER_ADDRESS, 0)), 5)
        # Until the ban ends.
        time.sleep(max(0.0, 4.5 - (time.monotonic() - banned_at)))
        self.assertEqual(self.raw_code("victim", "acme", "right", V311, port=tok), 0)
        self.assertEqual(self.raw_code("good", "acme", "right", V5, port=tok), 0)


class ConnectionRateTest(MtlsTest):
    def test_connections_over_the_per_ip_rate_are_closed_before_tls(self):
        self.start_mtls_stack(connection_rate={"per_ip": 0.1, "burst": 3})
        authctl(self.redis, "device", "add", "meter-1", "--username", "acme", "--key", "k")
        tok = self.proxy.token_port
        # From an address of its own: the harness's port probes spent tokens of 127.0.0.1.
        limited = ("127.0.0.3", 0)
        codes = [self.raw_code("meter-1", "acme", "k", V311, port=tok, source_address=limited)
                 for _ in range(5)]
        self.assertEqual(codes[:3], [0, 0, 0])
        self.assertEqual(codes[3:], [None, None])
        # Refused before the handshake: a plain TCP client gets EOF and not one byte.
        with socket.create_connection(("127.0.0.1", tok), timeout=3,
                                      source_address=limited) as raw:
            raw.sendall(b"\x16\x03\x01\x00\x00")
            try:
                self.assertEqual(raw.recv(1), b"")
            except ConnectionResetError:
                pass
        # Another address has its own bucket.
        self.assertEqual(self.raw_code("meter-1", "acme", "k", V311, port=tok,
                                       source_address=(OTHER_ADDRESS, 0)), 0)


class EventsAndSessionsTest(MtlsTest):
    def xrange_events(self):
        """The `events` stream as a list of dicts (with the entry id under "id")."""
        out = subprocess.run(["redis-cli", "-p", str(self.redis.port), "-2", "--json", "XRANGE",
                              f"{PREFIX}events", "-", "+"],
                             check=True, capture_output=True, text=True).stdout
        entries = []
        for entry_id, fields in json.loads(out or "[]"):
            entry = dict(zip(fields[0::2], fields[1::2]))
            entry["id"] = entry_id
            entries.append(entry)
        return entries

    def events_of(self, kind, device):
        return [e for e in self.xrange_events() if e.get("type") == kind and
                e.get("device") == device]

    def sessions(self, *args):
        out = authctl(self.redis, "--json", "sessions", *args).stdout
        return {s["device"]: s["fields"] for s in json.loads(out)}

    def test_events_sessions_and_kick(self):
        self.start_mtls_stack(extra_yaml="node_name: it-node-1\n")
        r = self.redis
        authctl(r, "device", "add", "meter-1", "--username", "acme", "--key", "k1")
        authctl(r, "device", "add", "meter-2", "--username", "acme", "--key", "k2")
        authctl(r, "device", "add", "cam-1", "--username", "acme", "--auth", "cert")
        cert_id, cert, key = self.new_cert("cam-1", devices=["cam-1"])

        self.assertEqual(self.sessions(), {})
        meter = self.session("meter-1", "acme", "k1")
        cam = self.session("cam-1", "acme", cert=(cert, key), protocol=paho.MQTTv5)
        self.assertEqual((meter.connack, cam.connack), (0, 0))
        # Exactly the connected devices, with what the proxy knows of them.
        self.assertTrue(wait_until(lambda: set(self.sessions()) == {"meter-1", "cam-1"}))
        sessions = self.sessions()
        self.assertEqual(sessions["meter-1"]["listener"], "token")
        self.assertEqual(sessions["cam-1"]["listener"], "cert")
        self.assertEqual(sessions["cam-1"]["cert_id"], cert_id)
        self.assertEqual(sessions["meter-1"]["node"], "it-node-1")
        self.assertTrue(sessions["meter-1"]["peer"].startswith("127.0.0.1:"))
        self.assertLessEqual(abs(int(sessions["cam-1"]["connected_at"]) - time.time()), 5)
        self.assertEqual(set(self.sessions("--device", "cam-1")), {"cam-1"})
        self.assertEqual(self.sessions("--device", "meter-2"), {})

        # A failed authentication.
        self.assertEqual(self.raw_code("meter-2", "acme", "wrong", V311,
                                       port=self.proxy.token_port), 4)
        # A kick (v5 client: DISCONNECT 0x98 first, then the close).
        kicked = self.raw(port=self.proxy.token_port)
        self.assertEqual(kicked.connect("meter-2", "acme", "k2", version=V5), 0)
        self.assertTrue(wait_until(lambda: "meter-2" in self.sessions()))
        out = authctl(r, "kick", "meter-2").stdout
        self.assertIn("1 proxy node", out)
        waited, packets = kicked.wait_closed(timeout=2.0)
        self.assertIsNotNone(waited, "kicked session still open")
        self.assertEqual(packets, [bytes([0xE0, 0x02, 0x98, 0x00])])
        # The kicked device may come back at once: kick does not disable.
        self.assertEqual(self.raw_code("meter-2", "acme", "k2", V311,
                                       port=self.proxy.token_port), 0)
        # A paho client kicked too; its session record goes away.
        authctl(r, "kick", "meter-1")
        self.assertTrue(meter.disconnected.wait(2.0))
        self.assertTrue(wait_until(lambda: r.cli("EXISTS", f"{PREFIX}session:meter-1") == "0"))
        # A normal disconnect removes the record as well.
        cam.close()
        self.assertTrue(wait_until(lambda: r.cli("EXISTS", f"{PREFIX}session:cam-1") == "0"))
        self.assertTrue(wait_until(lambda: self.sessions() == {}))

        self.assertTrue(wait_until(lambda: len(self.events_of("disconnect", "cam-1")) == 1))
        connects = self.events_of("connect", "cam-1")
        self.assertEqual(len(connects), 1)
        self.assertEqual(connects[0]["listener"], "cert")
        self.assertEqual(connects[0]["cert_id"], cert_id)
        self.assertEqual(connects[0]["node"], "it-node-1")
        self.assertEqual(self.events_of("connect", "meter-1")[0]["listener"], "token")

        failed = self.events_of("auth_failed", "meter-2")
        self.assertEqual(len(failed), 1)
        self.assertEqual(failed[0]["reason"], "bad_secret")
        self.assertEqual(failed[0]["listener"], "token")
        self.assertTrue(failed[0]["peer"].startswith("127.0.0.1:"))

        for device in ("meter-1", "meter-2"):
            kicks = self.events_of("kicked", device)
            self.assertEqual(len(kicks), 1, device)
            self.assertEqual(kicks[0]["reason"], "kicked")
        gone = self.events_of("disconnect", "meter-1")
        self.assertEqual(len(gone), 1)
        self.assertIn("kick", gone[0]["reason"])
        cam_gone = self.events_of("disconnect", "cam-1")[0]
        self.assertNotIn("kick", cam_gone["reason"])
        for field in ("bytes_in", "bytes_out", "duration"):
            self.assertGreater(float(cam_gone[field]), 0, field)
        # Ordered as they happened.
        ids = [e["id"] for e in self.xrange_events()]
        self.assertEqual(ids, sorted(ids, key=lambda i: tuple(map(int, i.split("-")))))


if __name__ == "__main__":
    unittest.main()
