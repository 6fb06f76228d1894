"""Issue 4: revocation reaches live sessions — `mqtt-authctl device disable / delete /
set-key`, `cert disable / unbind` close the device's sessions within 1 s (MQTT 5 clients get
DISCONNECT 0x98 or 0x87 first), other sessions keep flowing, reconnects are refused; a
change written without publishing is caught by revalidation; a session ends at its
certificate's notAfter."""
import os
import ssl
import subprocess
import time
import unittest

from harness import wait_until
from mtls_util import PREFIX, MtlsTest, OpensslCa, authctl, cert_fingerprint, register_cert

V311, V5 = 4, 5
ADMINISTRATIVE_ACTION, NOT_AUTHORIZED = 0x98, 0x87


def disconnect_v5(reason):
    return bytes([0xE0, 0x02, reason, 0x00])


class LiveDevice:
    """One device connected twice over: a paho 3.1.1 session (id-v3) and a raw MQTT 5
    session (id-v5), both the same kind of credential."""

    def __init__(self, test, base_id, username, key=None, cert=None):
        self.ids = (base_id + "-v3", base_id + "-v5")
        self.username, self.key, self.cert = username, key, cert
        self.v3 = test.session(self.ids[0], username, key, cert=cert)
        test.assertEqual(self.v3.connack, 0)
        self.v5 = test.raw(*(cert or (None, None)),
                           port=None if cert else test.proxy.token_port)
        test.assertEqual(self.v5.connect(self.ids[1], username, key, version=V5), 0)


class RevocationTest(MtlsTest):
    def setUp(self):
        super().setUp()
        self.start_mtls_stack()
        authctl(self.redis, "device", "add", "bystander", "--username", "acme", "--key", "bk")
        self.bystander = self.session("bystander", "acme", "bk")
        self.assertEqual(self.bystander.connack, 0)
        self.bystander.subscribe("bystander/#")

    def add_token_devices(self, base_id):
        for device in (base_id + "-v3", base_id + "-v5"):
            authctl(self.redis, "device", "add", device, "--username", "acme", "--key", "k1")
        return LiveDevice(self, base_id, "acme", key="k1")

    def add_cert_devices(self, base_id):
        devices = (base_id + "-v3", base_id + "-v5")
        for device in devices:
            authctl(self.redis, "device", "add", device, "--username", "acme", "--auth", "cert")
        cert_id, cert, key = self.new_cert(base_id, devices=devices)
        live = LiveDevice(self, base_id, "acme", cert=(cert, key))
        live.cert_id = cert_id
        return live

    def assert_revoked(self, live, revoke, v5_reason, reconnect_codes):
        """Runs |revoke| and checks both sessions end within 1 s, the v5 one after exactly
        DISCONNECT |v5_reason|; the bystander keeps flowing; reconnects get |reconnect_codes|
        (3.1.1 code, 5 code)."""
        started = time.monotonic()
        revoke()
        waited, packets = live.v5.wait_closed(timeout=3.0)
        self.assertIsNotNone(waited, "MQTT 5 session still open 3 s after the revocation")
        self.assertLess(time.monotonic() - started, 1.0, "MQTT 5 session closed too late")
        self.assertEqual(packets, [disconnect_v5(v5_reason)])
        self.assertTrue(live.v3.disconnected.wait(3.0), "3.1.1 session still open")
        self.assertLess(live.v3.disconnected_at - started, 1.0, "3.1.1 session closed too late")

        self.assertFalse(self.bystander.disconnected.is_set())
        self.bystander.publish_acked("bystander/1", b"still here")
        self.assertEqual(self.bystander.next_message().payload, b"still here")

        for client_id, version, expected in ((live.ids[0], V311, reconnect_codes[0]),
                                             (live.ids[1], V5, reconnect_codes[1])):
            port = None if live.cert else self.proxy.token_port
            self.assertEqual(self.raw_code(client_id, live.username, live.key, version,
                                           live.cert, port), expected, f"{client_id} reconnect")

    def test_device_disable(self):
        live = self.add_token_devices("meter")
        self.assert_revoked(live, lambda: [authctl(self.redis, "device", "disable", d)
                                           for d in live.ids],
                            ADMINISTRATIVE_ACTION, (5, 0x87))

    def test_device_disable_cert_device(self):
        live = self.add_cert_devices("cam")
        self.assert_revoked(live, lambda: [authctl(self.redis, "device", "disable", d)
                                           for d in live.ids],
                            ADMINISTRATIVE_ACTION, (5, 0x87))

    def test_device_delete(self):
        live = self.add_token_devices("meter")
        self.assert_revoked(live, lambda: [authctl(self.redis, "device", "delete", d)
                                           for d in live.ids],
                            ADMINISTRATIVE_ACTION, (4, 0x86))

    def test_device_set_key(self):
        live = self.add_token_devices("meter")
        self.assert_revoked(live, lambda: [authctl(self.redis, "device", "set-key", d,
                                                   "--key", "k2") for d in live.ids],
                            NOT_AUTHORIZED, (4, 0x86))
        self.assertEqual(self.raw_code(live.ids[0], "acme", "k2", V311,
                                       port=self.proxy.token_port), 0)

    def test_cert_disable(self):
        live = self.add_cert_devices("cam")
        self.assert_revoked(live, lambda: authctl(self.redis, "cert", "disable", live.cert_id),
                            NOT_AUTHORIZED, (5, 0x87))

    def test_cert_unbind(self):
        live = self.add_cert_devices("cam")
        self.assert_revoked(live, lambda: authctl(self.redis, "cert", "unbind", live.cert_id,
                                                  *live.ids),
                            NOT_AUTHORIZED, (5, 0x87))


class RevalidationTest(MtlsTest):
    def test_hset_without_publish_is_caught_within_one_interval(self):
        self.start_mtls_stack(extra_yaml="auth: {revalidate_interval: 2s}\n")
        for device in ("quiet-v3", "quiet-v5", "bystander"):
            authctl(self.redis, "device", "add", device, "--username", "acme", "--key", "k")
        live = LiveDevice(self, "quiet", "acme", key="k")
        bystander = self.session("bystander", "acme", "k")
        started = time.monotonic()
        for device in live.ids:
            self.redis.cli("HSET", f"{PREFIX}device:{device}", "enabled", "0")
        waited, packets = live.v5.wait_closed(timeout=5.0)
        self.assertIsNotNone(waited, "session not dropped by revalidation")
        self.assertLess(time.monotonic() - started, 3.5)
        self.assertEqual(packets, [disconnect_v5(ADMINISTRATIVE_ACTION)])
        self.assertTrue(live.v3.disconnected.wait(5.0))
        self.assertLess(live.v3.disconnected_at - started, 3.5)
        self.assertFalse(bystander.disconnected.is_set())
        self.assertEqual(bystander.round_trip("b/1", b"ok"), b"ok")


class CertificateExpiryTest(MtlsTest):
    def test_session_ends_at_not_after(self):
        self.start_mtls_stack()
        devices = ("short-v3", "short-v5")
        for device in devices:
            authctl(self.redis, "device", "add", device, "--username", "acme", "--auth", "cert")
        ossl = OpensslCa(self.pki.dir, self.workdir)
        cert = ossl.issue(self.workdir, "short", "short-lived", not_after=5)
        end = subprocess.run(["openssl", "x509", "-in", cert[0], "-noout", "-enddate"],
                             check=True, capture_output=True, text=True).stdout
        not_after = ssl.cert_time_to_seconds(end.strip().split("=", 1)[1])
        register_cert(self.redis, cert_fingerprint(cert[0]), devices, not_after=not_after)
        live = LiveDevice(self, "short", "acme", cert=cert)
        self.assertGreater(not_after - time.time(), 1.0, "certificate too close to expiry")
        waited, packets = live.v5.wait_closed(timeout=10.0)
        closed_at = time.time()
        self.assertIsNotNone(waited, "session outlived its certificate")
        self.assertGreaterEqual(closed_at, not_after - 0.5)
        self.assertLess(closed_at, not_after + 1.5)
        self.assertEqual(packets, [disconnect_v5(NOT_AUTHORIZED)])
        self.assertTrue(live.v3.disconnected.wait(3.0))
        self.assertTrue(self.proxy_log_has("reason=certificate_expired"))


if __name__ == "__main__":
    unittest.main()
