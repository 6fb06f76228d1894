"""Issue 7, backend.tls: the proxy speaks TLS to real Mosquitto brokers with a TLS listener
(certificates from mqtt-authctl's CA, the proxy's client certificate from `openssl ca`).
Devices round-trip through it; a broker with the wrong name, an untrusted CA, a missing
client certificate or no TLS at all is a failed backend (failover to the next server, else
CONNACK 3 / 0x88); the outbound PROXY header precedes the ClientHello in clear; a bad CA
file stops start-up and reload."""
import os
import signal
import socket
import ssl
import subprocess
import time
import unittest

from harness import (AUTHCTL_BIN, Mosquitto, Process, Redis, connect_packet, free_port,
                     wait_port)
from mtls_util import OpensslCa
from ops_util import http_request, parse_exposition, value
from test_scaleout import ProxyProtocolBroker, ScaleoutProxy, ScaleoutTest

V311, V5 = 4, 5
SERVER_UNAVAILABLE = {V311: 3, V5: 0x88}
BROKER_NAME = "broker.test"


class BrokerPki:
    """The brokers' CA (not the devices'): a server certificate for broker.test and
    127.0.0.1, a client certificate for the proxy, and an unrelated CA."""

    def __init__(self, workdir):
        self.dir = os.path.join(workdir, "broker-pki")
        run = lambda *a: subprocess.run([AUTHCTL_BIN, *a], check=True, capture_output=True,
                                        text=True)
        run("ca", "init", "--out", self.dir, "--cn", "broker-ca")
        run("server-cert", "--ca", self.dir, "--cn", BROKER_NAME, "--san", BROKER_NAME,
            "--san", "127.0.0.1", "--out", self.dir)
        self.ca = os.path.join(self.dir, "root_ca.crt")
        self.server_cert = os.path.join(self.dir, "server.crt")
        self.server_key = os.path.join(self.dir, "server.key")
        self.proxy_cert, self.proxy_key = OpensslCa(self.dir, workdir).issue(
            os.path.join(workdir, "proxy-client"), "proxy", "mqtt-auth-proxy")
        other = os.path.join(workdir, "other-ca")
        run("ca", "init", "--out", other, "--cn", "other-ca")
        self.other_ca = os.path.join(other, "root_ca.crt")


class TlsMosquitto(Process):
    """Mosquitto with only a TLS listener on loopback; |require_certificate| asks clients
    (the proxy) for a certificate from the brokers' CA."""

    def __init__(self, workdir, pki, require_certificate=False):
        self.port = free_port()
        conf = os.path.join(workdir, f"mosquitto-tls-{self.port}.conf")
        with open(conf, "w") as f:
            if os.geteuid() == 0:
                f.write("user root\n")
            f.write(f"listener {self.port} 127.0.0.1\n"
                    f"cafile {pki.ca}\ncertfile {pki.server_cert}\nkeyfile {pki.server_key}\n"
                    f"require_certificate {'true' if require_certificate else 'false'}\n"
                    "persistence false\nallow_anonymous true\n")
        super().__init__(f"mosquitto-tls-{self.port}", ["mosquitto", "-c", conf], workdir)

    def start(self):
        super().start()
        wait_port(self.port, proc=self.proc)
        return self


class SilentBroker:
    """Accepts TCP connections and never answers: a TLS handshake to it times out."""

    name = "silent-broker"

    def __init__(self):
        self._server = socket.create_server(("127.0.0.1", 0))
        self.port = self._server.getsockname()[1]

    def start(self):
        return self

    def stop(self):
        self._server.close()

    def log(self):
        return ""


def backend_tls_yaml(ca, cert=None, key=None, server_name=None, verify=None):
    lines = ["  tls:", f"    ca: {ca}"]
    if cert:
        lines += [f"    cert: {cert}", f"    key: {key}"]
    if server_name:
        lines.append(f"    server_name: {server_name}")
    if verify is not None:
        lines.append(f"    verify: {'true' if verify else 'false'}")
    return lines


class BackendTlsProxy(ScaleoutProxy):
    """ScaleoutProxy with a `backend.tls` block (lines from backend_tls_yaml)."""

    def __init__(self, workdir, pki, redis, backends, tls_lines, **kwargs):
        super().__init__(workdir, pki, redis, backends, **kwargs)
        with open(self.config_path) as f:
            text = f.read()
        anchor = "\n  connect_timeout: 1s\n"
        if anchor not in text:
            raise RuntimeError("BackendTlsProxy: no backend connect_timeout line to follow")
        text = text.replace(anchor, anchor + "\n".join(tls_lines) + "\n", 1)
        with open(self.config_path, "w") as f:
            f.write(text)


class BackendTlsTest(ScaleoutTest):
    def setUp(self):
        super().setUp()
        self.broker_pki = BrokerPki(self.workdir)

    def start_tls_stack(self, backends, tls_lines, **proxy_kwargs):
        self.redis = self.started(Redis(self.workdir))
        self.backends = [self.started(b) for b in backends]
        self.proxy = self.started(BackendTlsProxy(self.workdir, self.pki, self.redis,
                                                  self.backends, tls_lines, **proxy_kwargs))
        self.devices_dir = os.path.join(self.workdir, "devices")
        self.add_token_devices(["meter-1", "meter-2"])

    def tls_broker(self, require_certificate=False):
        return TlsMosquitto(self.workdir, self.broker_pki, require_certificate)

    def code(self, device="meter-1", version=V311):
        return self.raw_code(device, "acme", "k", version, port=self.proxy.token_port)

    def assert_refused_as_unavailable(self, log_reason,
                                      outcome="reason=backend_unavailable connack=0x88"):
        for version in (V311, V5):
            self.assertEqual(self.code(version=version), SERVER_UNAVAILABLE[version],
                             self.proxy.log()[-3000:])
        self.assertTrue(self.proxy_log_has(log_reason), self.proxy.log()[-3000:])
        self.assertTrue(self.proxy_log_has(outcome), self.proxy.log()[-3000:])

    def round_trip(self, device="meter-1"):
        session = self.session(device, "acme", "k")
        self.assertEqual(session.connack, 0)
        topic = f"t/{device}/{time.monotonic_ns()}"
        self.assertEqual(session.round_trip(topic, b"over tls both ways"), b"over tls both ways")
        session.close()


class RoundTripTest(BackendTlsTest):
    def test_device_round_trip_through_a_tls_broker(self):
        # No server_name: the broker's certificate must carry the server's host, 127.0.0.1.
        self.start_tls_stack([self.tls_broker()], backend_tls_yaml(self.broker_pki.ca))
        self.round_trip("meter-1")
        # QoS 1 between two devices, each on its own TLS session to the broker.
        receiver = self.session("meter-2", "acme", "k")
        receiver.subscribe("shared/#")
        sender = self.session("meter-1", "acme", "k")
        for i in range(20):
            sender.publish_acked(f"shared/{i}", f"m{i}".encode())
        got = [receiver.next_message().payload for _ in range(20)]
        self.assertEqual(got, [f"m{i}".encode() for i in range(20)])

    def test_large_messages_keep_flowing_both_ways(self):
        self.start_tls_stack([self.tls_broker()], backend_tls_yaml(self.broker_pki.ca))
        receiver = self.session("meter-2", "acme", "k")
        receiver.subscribe("big/#")
        sender = self.session("meter-1", "acme", "k")
        payloads = [bytes([i]) * (200_000 + i) for i in range(8)]
        for i, payload in enumerate(payloads):
            sender.client.publish(f"big/{i}", payload, qos=1)
        for i, payload in enumerate(payloads):
            message = receiver.next_message(timeout=10)
            self.assertEqual((message.topic, message.payload), (f"big/{i}", payload))

    def test_server_name_is_verified(self):
        broker = self.tls_broker()
        self.start_tls_stack([broker], backend_tls_yaml(self.broker_pki.ca,
                                                        server_name=BROKER_NAME))
        self.round_trip()


class ClientCertificateTest(BackendTlsTest):
    def test_broker_requiring_a_certificate_accepts_the_proxys(self):
        self.start_tls_stack([self.tls_broker(require_certificate=True)],
                             backend_tls_yaml(self.broker_pki.ca, self.broker_pki.proxy_cert,
                                              self.broker_pki.proxy_key))
        self.round_trip()

    def test_without_a_client_certificate_the_device_gets_server_unavailable(self):
        self.start_tls_stack([self.tls_broker(require_certificate=True)],
                             backend_tls_yaml(self.broker_pki.ca))
        # TLS 1.3: the broker refuses after the handshake, with an alert in answer to the
        # CONNECT; the session had begun, so it ends with the CONNACK the proxy wrote.
        self.assert_refused_as_unavailable("reason=tls_protocol_error "
                                           "detail=TLSV1_ALERT_CERTIFICATE_REQUIRED",
                                           "reason=backend_tls_refused")


class VerificationTest(BackendTlsTest):
    def test_wrong_server_name_is_refused(self):
        self.start_tls_stack([self.tls_broker()],
                             backend_tls_yaml(self.broker_pki.ca, server_name="wrong.test"))
        self.assert_refused_as_unavailable(
            "reason=tls_certificate_verify_failed detail=\"Hostname mismatch\"")

    def test_wrong_server_name_passes_with_verify_false(self):
        self.start_tls_stack([self.tls_broker()],
                             backend_tls_yaml(self.broker_pki.ca, server_name="wrong.test",
                                              verify=False))
        self.round_trip()

    def test_broker_from_an_untrusted_ca_is_refused(self):
        self.start_tls_stack([self.tls_broker()], backend_tls_yaml(self.broker_pki.other_ca))
        # Mosquitto sends its chain up to the root; either way the root is not trusted.
        self.assert_refused_as_unavailable("reason=tls_certificate_verify_failed detail=")


class FailoverTest(BackendTlsTest):
    def metrics_port_yaml(self):
        self.metrics_port = free_port()
        return f"metrics: {{bind: \"127.0.0.1:{self.metrics_port}\"}}\n"

    def failures(self, backend):
        _, body = http_request(self.metrics_port, "/metrics")
        return value(parse_exposition(body), "mqtt_auth_proxy_backend_connect_failures_total",
                     server=f"127.0.0.1:{backend.port}")

    def test_plain_broker_first_then_tls_broker(self):
        plain, good = Mosquitto(self.workdir), self.tls_broker()
        self.start_tls_stack([plain, good], backend_tls_yaml(self.broker_pki.ca),
                             balance="round_robin", extra_yaml=self.metrics_port_yaml())
        for device in ("meter-1", "meter-2", "meter-1", "meter-2"):
            self.assertEqual(self.code(device), 0, self.proxy.log()[-3000:])
        self.assertTrue(self.proxy_log_has(f"backend_connect_failed backend=127.0.0.1:{plain.port}"
                                           " reason=tls_"), self.proxy.log()[-3000:])
        self.assertGreaterEqual(self.failures(plain), 1)
        self.assertEqual(self.failures(good), 0)

    def test_silent_broker_times_out_within_connect_timeout(self):
        silent, good = SilentBroker(), self.tls_broker()
        self.start_tls_stack([silent, good], backend_tls_yaml(self.broker_pki.ca),
                             balance="round_robin", extra_yaml=self.metrics_port_yaml())
        started = time.monotonic()
        self.assertEqual(self.code(), 0, self.proxy.log()[-3000:])
        elapsed = time.monotonic() - started
        # The first attempt goes to the silent server: 1 s (connect_timeout) then the next.
        self.assertGreater(elapsed, 0.9)
        self.assertLess(elapsed, 3.0)
        self.assertTrue(self.proxy_log_has(f"backend=127.0.0.1:{silent.port} "
                                           "reason=tls_handshake_timeout"),
                        self.proxy.log()[-3000:])
        self.assertEqual(self.failures(silent), 1)

    def test_every_backend_broken_refuses_with_server_unavailable(self):
        self.start_tls_stack([Mosquitto(self.workdir), Mosquitto(self.workdir)],
                             backend_tls_yaml(self.broker_pki.ca))
        self.assert_refused_as_unavailable("reason=tls_")


class ProxyProtocolTest(BackendTlsTest):
    def test_proxy_v2_header_in_clear_before_the_client_hello(self):
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(self.broker_pki.server_cert, self.broker_pki.server_key)
        broker = ProxyProtocolBroker("v2", tls_context=context)
        self.start_tls_stack([broker], backend_tls_yaml(self.broker_pki.ca),
                             backend_proxy_protocol="v2")
        session = self.raw(port=self.proxy.token_port)
        self.assertEqual(session.connect("meter-1", "acme", "k", V311), 0)
        client = session.sock.getsockname()
        header, packet, version = broker.next()
        self.assertIsInstance(header, dict, header)
        self.assertEqual(header["src"], (client[0], client[1]))
        self.assertEqual(header["dst"], ("127.0.0.1", self.proxy.token_port))
        self.assertIn(version, ("TLSv1.3", "TLSv1.2"))
        self.assertEqual(packet, connect_packet("meter-1", "meter-1", None, version=V311))


class StartAndReloadTest(BackendTlsTest):
    def not_a_certificate(self):
        path = os.path.join(self.workdir, "not-a-ca.crt")
        with open(path, "w") as f:
            f.write("this is not a certificate\n")
        return path

    def test_bad_ca_file_stops_start(self):
        self.redis = self.started(Redis(self.workdir))
        bad = self.not_a_certificate()
        proxy = BackendTlsProxy(self.workdir, self.pki, self.redis, [Mosquitto(self.workdir)],
                                backend_tls_yaml(bad))
        self.processes.append(proxy)
        Process.start(proxy)  # not Proxy.start: its listeners never open
        self.assertEqual(proxy.proc.wait(timeout=10), 1, proxy.log())
        self.assertIn(f"proxy.yaml: backend.tls: {bad}: ", proxy.log())
        check = subprocess.run([proxy.argv[0], "--check-config", proxy.config_path],
                               capture_output=True, text=True)
        self.assertEqual(check.returncode, 1)
        self.assertIn(f"proxy.yaml: backend.tls: {bad}: ", check.stderr)

    def test_reload_with_a_bad_ca_file_is_refused_and_the_old_config_stays(self):
        self.start_tls_stack([self.tls_broker()], backend_tls_yaml(self.broker_pki.ca))
        self.assertEqual(self.code(), 0)
        with open(self.proxy.config_path) as f:
            text = f.read()
        bad = self.not_a_certificate()
        with open(self.proxy.config_path, "w") as f:
            f.write(text.replace(f"ca: {self.broker_pki.ca}", f"ca: {bad}"))
        self.proxy.proc.send_signal(signal.SIGHUP)
        self.assertTrue(self.proxy_log_has(f"reload refused: {self.proxy.config_path}: "
                                           f"backend.tls: {bad}: "), self.proxy.log()[-2000:])
        self.assertEqual(self.code(), 0)


if __name__ == "__main__":
    unittest.main()
