"""Issue 3: mutual TLS on the cert listener — the documented paho client, the refusal matrix
with exact CONNACK codes in 3.1.1 and 5, cert_identity: cn, mosquitto_pub with a
`cert create` bundle, and a CRL updated while the proxy runs."""
import os
import signal
import subprocess
import time
import unittest

import paho.mqtt.client as paho

from harness import AUTHCTL_BIN, wait_until
from mtls_util import (PREFIX, MtlsTest, OpensslCa, authctl, cert_fingerprint, create_cert,
                       register_cert)

V311, V5 = 4, 5


class DocumentedClientTest(MtlsTest):
    def test_documented_paho_client_subscribes_and_receives_its_own_publish(self):
        self.start_mtls_stack()
        authctl(self.redis, "device", "add", "cam-1", "--username", "acme-cams", "--auth", "cert")
        _, cert, key = self.new_cert("cam-1", devices=["cam-1"])
        bundle = os.path.dirname(cert)
        for protocol in (paho.MQTTv311, paho.MQTTv5):
            with self.subTest(protocol=protocol):
                # username_pw_set(username) without a password, tls_set with the bundle files,
                # TLS 1.2, tls_insecure_set(True): the platform's documentation unchanged.
                s = self.session("cam-1", "acme-cams", protocol=protocol,
                                 cert=(cert, key), documented_tls=True, wait=False)
                self.assertEqual(s.wait_connack(), 0)
                self.assertEqual(s.round_trip(f"cams/cam-1/{protocol}", b"frame"), b"frame")
                s.close()
        self.assertTrue(os.path.exists(os.path.join(bundle, "root_ca.crt")))


class MatrixTest(MtlsTest):
    """One proxy (with a CRL) and every combination the issue names, each in 3.1.1 and 5."""

    def test_matrix(self):
        ossl = OpensslCa(self.pki.dir, self.workdir)
        crl = os.path.join(self.workdir, "device_ca.crl")
        revoked_cert, revoked_key = ossl.issue(self.workdir, "revoked", "revoked-cn")
        ossl.revoke(revoked_cert)
        ossl.write_crl(crl)
        # Refusals count towards bans; this test makes many on purpose.
        self.start_mtls_stack(crl=crl, auth_failures={"max_per_ip": 1000, "max_per_device": 1000})
        r = self.redis
        authctl(r, "device", "add", "tok", "--username", "tok-user", "--key", "tok-key")
        authctl(r, "device", "add", "tok-off", "--username", "tok-user", "--key", "tok-key")
        authctl(r, "device", "disable", "tok-off")
        authctl(r, "device", "add", "cam", "--username", "cam-user", "--auth", "cert")
        authctl(r, "device", "add", "cam-off", "--username", "cam-user", "--auth", "cert")
        authctl(r, "device", "disable", "cam-off")

        _, a_crt, a_key = self.new_cert("good", devices=["cam", "cam-off"])
        good = (a_crt, a_key)
        # A token device with a bound certificate: still refused on the cert listener.
        authctl(r, "cert", "bind", "good", "tok")
        _, d_crt, d_key = self.new_cert("disabled", devices=["cam"], disabled=True)
        _, u_crt, u_key = self.new_cert("unbound")
        unregistered = ossl.issue(self.workdir, "unregistered", "unregistered-cn")
        # Valid certificate whose record says it expired: refused by the decision.
        record_expired = ossl.issue(self.workdir, "record-expired", "record-expired-cn")
        register_cert(r, cert_fingerprint(record_expired[0]), ["cam"],
                      not_after=int(time.time()) - 60)
        # Certificates the TLS handshake must refuse, although registered and bound.
        expired = ossl.issue(self.workdir, "expired", "expired-cn", -2 * 86400, -86400)
        register_cert(r, cert_fingerprint(expired[0]), ["cam"])
        register_cert(r, cert_fingerprint(revoked_cert), ["cam"])
        other_ca = os.path.join(self.workdir, "other-ca")
        subprocess.run([AUTHCTL_BIN, "ca", "init", "--out", other_ca, "--cn", "other-ca"],
                       check=True, capture_output=True)
        _, other_bundle = create_cert(r, other_ca, "other", self.devices_dir, ["cam"])
        o_crt, o_key = (os.path.join(other_bundle, "other" + ext) for ext in (".crt", ".key"))

        tok, crt = self.proxy.token_port, self.proxy.cert_port
        # (name, port, client_id, username, password, cert, code 3.1.1, code 5)
        cases = [
            ("token device, token listener", tok, "tok", "tok-user", "tok-key", None, 0, 0),
            ("token device, wrong username", tok, "tok", "nobody", "tok-key", None, 4, 0x86),
            ("token device disabled", tok, "tok-off", "tok-user", "tok-key", None, 5, 0x87),
            ("token device on cert listener", crt, "tok", "tok-user", None, good, 4, 0x86),
            ("cert device on token listener", tok, "cam", "cam-user", "x", None, 4, 0x86),
            ("cert device, cert listener", crt, "cam", "cam-user", None, good, 0, 0),
            ("cert device, wrong username", crt, "cam", "nobody", None, good, 4, 0x86),
            ("cert device disabled", crt, "cam-off", "cam-user", None, good, 5, 0x87),
            ("certificate disabled", crt, "cam", "cam-user", None, (d_crt, d_key), 5, 0x87),
            ("certificate not bound", crt, "cam", "cam-user", None, (u_crt, u_key), 5, 0x87),
            ("certificate not registered", crt, "cam", "cam-user", None, unregistered, 5, 0x87),
            ("record says expired", crt, "cam", "cam-user", None, record_expired, 5, 0x87),
        ]
        for name, port, client_id, username, password, cert, v3_code, v5_code in cases:
            for version, expected in ((V311, v3_code), (V5, v5_code)):
                with self.subTest(case=name, version=version):
                    code = self.raw_code(client_id, username, password, version, cert, port)
                    self.assertEqual(code, expected)

        handshake_failures = [
            ("certificate from another CA", (o_crt, o_key), "certificate_verify_failed"),
            ("expired certificate", expired, "certificate_expired"),
            ("certificate listed in the CRL", (revoked_cert, revoked_key), "certificate_revoked"),
            # Logged as certificate_verify_failed by the current proxy; the reason text is
            # not part of the contract, the failed handshake is.
            ("no client certificate", None, "no_client_certificate"),
        ]
        for name, cert, reason in handshake_failures:
            for version in (V311, V5):
                with self.subTest(case=name, version=version):
                    failures_before = self.proxy.log().count("tls_handshake_failed")
                    session = self.raw(*(cert or (None, None)))
                    self.assertIsNone(session.connect("cam", "cam-user", version=version))
                    self.assertIsNotNone(session.tls_error)
                    session.close()
                    self.assertTrue(wait_until(lambda: self.proxy.log().count(
                        "tls_handshake_failed") > failures_before))
                    if reason:
                        self.assertTrue(self.proxy_log_has(f"reason={reason}"),
                                        f"no 'tls_handshake_failed ... reason={reason}' logged")


class CertIdentityCnTest(MtlsTest):
    def test_reissued_certificate_with_same_cn_is_accepted_without_rebinding(self):
        self.start_mtls_stack(cert_identity="cn")
        ossl = OpensslCa(self.pki.dir, self.workdir)
        authctl(self.redis, "device", "add", "meter-7", "--username", "acme", "--auth", "cert")
        # With cert_identity: cn the cert_id is the subject CN: registered and bound once.
        register_cert(self.redis, "meter-7-cn", ["meter-7"], cn="meter-7-cn")
        first = ossl.issue(os.path.join(self.workdir, "v1"), "meter", "meter-7-cn")
        reissued = ossl.issue(os.path.join(self.workdir, "v2"), "meter", "meter-7-cn")
        self.assertNotEqual(cert_fingerprint(first[0]), cert_fingerprint(reissued[0]))
        other_cn = ossl.issue(self.workdir, "other", "meter-8-cn")
        for version in (V311, V5):
            with self.subTest(version=version):
                self.assertEqual(self.raw_code("meter-7", "acme", None, version, first), 0)
                self.assertEqual(self.raw_code("meter-7", "acme", None, version, reissued), 0)
                self.assertEqual(self.raw_code("meter-7", "acme", None, version, other_cn),
                                 5 if version == V311 else 0x87)
        s = self.session("meter-7", "acme", cert=reissued)
        self.assertEqual(s.connack, 0)
        self.assertTrue(wait_until(
            lambda: self.redis.cli("HGET", f"{PREFIX}session:meter-7", "cert_id") == "meter-7-cn"))
        self.assertEqual(s.round_trip("meters/7", b"reading"), b"reading")


class MosquittoPubTest(MtlsTest):
    def test_cert_create_bundle_works_with_mosquitto_pub(self):
        self.start_mtls_stack()
        authctl(self.redis, "device", "add", "sensor-3", "--username", "acme", "--auth", "cert")
        _, cert, key = self.new_cert("sensor-3", devices=["sensor-3"])
        bundle_ca = os.path.join(os.path.dirname(cert), "root_ca.crt")
        for version in ("mqttv311", "mqttv5"):
            with self.subTest(version=version):
                topic = f"sensors/3/{version}"
                sub = subprocess.Popen(["mosquitto_sub", "-h", "127.0.0.1", "-p",
                                        str(self.backend_port), "-t", topic, "-C", "1", "-W", "10"],
                                       stdout=subprocess.PIPE, text=True)
                self.addCleanup(sub.kill)
                time.sleep(0.3)  # let the subscription reach the broker
                pub = subprocess.run(["mosquitto_pub", "-h", "127.0.0.1", "-p",
                                      str(self.proxy.cert_port), "--cafile", bundle_ca, "--cert",
                                      cert, "--key", key, "-i", "sensor-3", "-u", "acme",
                                      "-V", version, "-q", "1", "-t", topic, "-m", "21.5"],
                                     capture_output=True, text=True, timeout=15)
                self.assertEqual(pub.returncode, 0, pub.stdout + pub.stderr)
                out, _ = sub.communicate(timeout=15)
                self.assertEqual(out.strip(), "21.5")


class CrlReloadTest(MtlsTest):
    """tls.crl is re-read when the file changes (and on SIGHUP) without dropping sessions."""

    def _start_with_crl(self):
        self.ossl = OpensslCa(self.pki.dir, self.workdir)
        self.crl = os.path.join(self.workdir, "device_ca.crl")
        self.ossl.write_crl(self.crl)  # nothing revoked yet
        self.start_mtls_stack(crl=self.crl)
        for device in ("cam-a", "cam-b"):
            authctl(self.redis, "device", "add", device, "--username", "acme", "--auth", "cert")
        self.cert_a = self.ossl.issue(self.workdir, "a", "cam-a-cn")
        self.cert_b = self.ossl.issue(self.workdir, "b", "cam-b-cn")
        register_cert(self.redis, cert_fingerprint(self.cert_a[0]), ["cam-a"])
        register_cert(self.redis, cert_fingerprint(self.cert_b[0]), ["cam-b"])
        self.assertEqual(self.raw_code("cam-a", "acme", cert=self.cert_a), 0)
        self.live_b = self.session("cam-b", "acme", cert=self.cert_b)
        self.assertEqual(self.live_b.connack, 0)

    def _revoked_a_refused(self):
        session = self.raw(*self.cert_a)
        code = session.connect("cam-a", "acme")
        session.close()
        return code is None and session.tls_error is not None

    def _assert_b_still_flowing(self):
        self.assertFalse(self.live_b.disconnected.is_set())
        self.assertEqual(self.live_b.round_trip("cams/b", b"still here"), b"still here")

    # The proxy polls its TLS files once a second and rebuilds the listener's TLS context.
    def test_crl_file_changed_on_disk(self):
        self._start_with_crl()
        time.sleep(1.1)  # a new mtime even on file systems with 1 s timestamps
        self.ossl.revoke(self.cert_a[0])
        self.ossl.write_crl(self.crl)
        self.assertTrue(wait_until(self._revoked_a_refused, timeout=5.0, interval=0.5),
                        "revoked certificate still accepted after the CRL file changed")
        self.assertTrue(self.proxy_log_has("reason=certificate_revoked"))
        self._assert_b_still_flowing()
        self.assertEqual(self.raw_code("cam-b", "acme", cert=self.cert_b), 0)

    def test_crl_reloaded_on_sighup(self):
        self._start_with_crl()
        self.ossl.revoke(self.cert_a[0])
        self.ossl.write_crl(self.crl)
        self.proxy.proc.send_signal(signal.SIGHUP)
        time.sleep(0.5)
        self.assertIsNone(self.proxy.proc.poll(), "proxy exited on SIGHUP")
        self.assertTrue(wait_until(self._revoked_a_refused, timeout=3.0, interval=0.5),
                        "revoked certificate still accepted after SIGHUP")
        self._assert_b_still_flowing()


if __name__ == "__main__":
    unittest.main()
