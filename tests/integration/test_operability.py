"""Operability: Prometheus /metrics after a known sequence, /healthz and /readyz following
Redis, SIGHUP reload of TLS files and of a broken YAML, `--reload PIDFILE`, graceful drain
on SIGTERM, JSON logs and the rate limit of refusal lines."""
import hashlib
import json
import os
import re
import select
import shutil
import signal
import socket
import ssl
import subprocess
import tempfile
import time
import unittest

import paho.mqtt.client as paho

from harness import (AUTHCTL_BIN, PROXY_BIN, IntegrationTest, Mosquitto, Proxy, Redis,
                     connack_code, connect_packet, free_port, read_packet, subscribe_packet,
                     tls_connect, wait_until)
from ops_util import (ExpositionError, JsonLogProxy, connection_refused, http_request,
                      http_status, parse_exposition, samples, value)

KEY = "0123456789abcdef0123456789abcdef"
OTHER_KEY = "fedcba9876543210fedcba9876543210"
WRONG_KEY = "wrong-key-4b1d0c9e"
GRACE_SECONDS = 3


class OpsTest(IntegrationTest):
    proxy_class = Proxy

    def start_ops_stack(self, grace=GRACE_SECONDS):
        self.metrics_port = free_port()
        self.pid_file = os.path.join(self.workdir, "proxy.pid")
        extra = (f"metrics: {{bind: \"127.0.0.1:{self.metrics_port}\"}}\n"
                 f"shutdown_grace: {grace}s\n"
                 f"pid_file: {self.pid_file}\n")
        self.redis = self.started(Redis(self.workdir))
        self.broker = self.started(Mosquitto(self.workdir))
        self.proxy = self.started(self.proxy_class(self.workdir, self.pki, self.redis,
                                                   [self.broker], extra_yaml=extra))
        self.add_device("sensor-1", "user-1", KEY)
        self.add_device("sensor-2", "user-2", OTHER_KEY)

    def scrape(self):
        status, body = http_request(self.metrics_port, "/metrics")
        self.assertEqual(status, 200, body)
        try:
            return parse_exposition(body), body
        except ExpositionError as error:
            self.fail(f"/metrics is not valid exposition text: {error}\n{body}")

    def log_has(self, text, timeout=5.0):
        return wait_until(lambda: text in self.proxy.log(), timeout=timeout)

    def good(self, device="sensor-1", username="user-1", key=KEY, version=4):
        return connect_packet(device, username, key, version=version)

    def raw_session(self, packet):
        """A TLS connection that sent |packet| and got CONNACK 0; the socket stays open."""
        sock = tls_connect(self.proxy.token_port, self.tls_context())
        self.addCleanup(sock.close)
        sock.sendall(packet)
        reply = read_packet(sock)
        self.assertEqual(connack_code(reply), 0, reply)
        return sock


class MetricsTest(OpsTest):
    def setUp(self):
        super().setUp()
        self.start_ops_stack()

    def test_scrape_after_known_sequence_shows_exact_counts(self):
        before, _ = self.scrape()
        accepted_before = value(before, "mqtt_auth_proxy_connections_accepted_total",
                                listener="token")
        self.assertIsNotNone(accepted_before)
        self.assertEqual(samples(before, "mqtt_auth_proxy_authentications_total"), {})

        self.raw_session(self.good()).close()
        self.raw_session(self.good("sensor-2", "user-2", OTHER_KEY, version=5)).close()
        self.assertEqual(self.raw_connack(self.good(key=WRONG_KEY)), 4)
        self.assertEqual(self.raw_connack(self.good(key=WRONG_KEY, version=5)), 0x86)
        self.assertEqual(self.raw_connack(connect_packet("ghost-9", "user-9", KEY)), 4)
        with socket.create_connection(("127.0.0.1", self.proxy.token_port), timeout=5) as plain:
            plain.sendall(b"GET / HTTP/1.0\r\nHost: x\r\n\r\n")  # plain text to the TLS port
            plain.settimeout(5)
            try:
                while plain.recv(4096):
                    pass
            except OSError:
                pass

        def settled():
            families, _ = self.scrape()
            active = value(families, "mqtt_auth_proxy_connections_active", listener="token")
            return active == 0
        self.assertTrue(wait_until(settled, timeout=5), "connections still active")

        families, body = self.scrape()
        auth = samples(families, "mqtt_auth_proxy_authentications_total")
        self.assertEqual(auth, {
            frozenset({"listener": "token", "result": "accepted", "reason": "accepted"}.items()): 2,
            frozenset({"listener": "token", "result": "refused", "reason": "bad_secret"}.items()): 2,
            frozenset({"listener": "token", "result": "refused", "reason": "unknown_device"}.items()): 1,
        }, body)
        tls = samples(families, "mqtt_auth_proxy_tls_handshake_failures_total")
        self.assertEqual(tls, {frozenset({"listener": "token", "reason": "not_tls"}.items()): 1}, body)
        accepted = value(families, "mqtt_auth_proxy_connections_accepted_total", listener="token")
        self.assertEqual(accepted - accepted_before, 6, body)
        closed = value(families, "mqtt_auth_proxy_connections_closed_total", listener="token")
        self.assertEqual(closed, accepted, body)
        # Every CONNACK the device got, the proxy's refusals and the broker's acceptances.
        self.assertEqual(value(families, "mqtt_auth_proxy_connack_latency_seconds_count"), 5, body)
        self.assertEqual(value(families, "mqtt_auth_proxy_redis_lookup_seconds_count"), 5, body)
        self.assertGreater(value(families, "mqtt_auth_proxy_relayed_bytes_total",
                                 direction="to_device"), 0, body)
        self.assertEqual(value(families, "mqtt_auth_proxy_ready"), 1, body)
        self.assertGreater(value(families, "process_resident_memory_bytes"), 1 << 20, body)
        self.assertGreater(value(families, "process_open_fds"), 3, body)
        for family in families:
            self.assertTrue(family.startswith("mqtt_auth_proxy_") or family.startswith("process_"),
                            family)
        self.run_promtool(body)

    def run_promtool(self, body):
        promtool = shutil.which("promtool")
        if promtool is None:
            return
        out = subprocess.run([promtool, "check", "metrics"], input=body, capture_output=True,
                             text=True, timeout=30)
        self.assertEqual(out.returncode, 0, f"promtool: {out.stdout}{out.stderr}")

    def test_parser_rejects_broken_exposition(self):
        """The strict parser is itself strict (so a pass above means something)."""
        good = ("# HELP a_total A.\n# TYPE a_total counter\na_total{x=\"1\"} 2\n"
                "# HELP h H.\n# TYPE h histogram\nh_bucket{le=\"1\"} 1\nh_bucket{le=\"+Inf\"} 2\n"
                "h_sum 3\nh_count 2\n")
        parse_exposition(good)
        broken = {
            "no newline": good[:-1],
            "sample before TYPE": "a_total 1\n" + good,
            "no HELP": "# TYPE b gauge\nb 1\n",
            "bad label": good.replace('x="1"', "x=1"),
            "bad label name": good.replace('x="1"', '1x="1"'),
            "bad escape": good.replace('x="1"', 'x="\\t"'),
            "not cumulative": good.replace('h_bucket{le="+Inf"} 2', 'h_bucket{le="+Inf"} 0')
                                  .replace("h_count 2", "h_count 0"),
            "no +Inf": good.replace('h_bucket{le="+Inf"} 2\n', ""),
            "count differs": good.replace("h_count 2", "h_count 3"),
            "duplicate": good.replace("a_total{x=\"1\"} 2\n", "a_total{x=\"1\"} 2\na_total{x=\"1\"} 2\n"),
            "interleaved": good + "a_total{x=\"2\"} 1\n",
            "counter without _total": "# HELP c C.\n# TYPE c counter\nc 1\n",
            "bad value": good.replace("h_sum 3", "h_sum three"),
        }
        for name, text in broken.items():
            with self.subTest(name):
                with self.assertRaises(ExpositionError):
                    parse_exposition(text)


class HealthTest(OpsTest):
    def setUp(self):
        super().setUp()
        self.start_ops_stack()

    def test_readyz_follows_redis_and_healthz_stays_up(self):
        port = self.metrics_port
        self.assertTrue(wait_until(lambda: http_status(port, "/readyz") == 200, timeout=5),
                        f"/readyz: {http_status(port, '/readyz')}")
        self.assertEqual(http_status(port, "/healthz"), 200)

        self.redis.stop()
        stopped = time.monotonic()
        self.assertTrue(wait_until(lambda: http_status(port, "/readyz") == 503, timeout=2,
                                   interval=0.05), "/readyz still 200 2 s after Redis stopped")
        self.assertLess(time.monotonic() - stopped, 2.0)
        self.assertEqual(http_status(port, "/healthz"), 200)
        time.sleep(0.5)
        self.assertEqual(http_status(port, "/readyz"), 503, "ready again without Redis")
        families, body = self.scrape()
        self.assertEqual(value(families, "mqtt_auth_proxy_ready"), 0, body)

        self.redis = self.started(Redis(self.workdir, port=self.redis.port))
        self.assertTrue(wait_until(lambda: http_status(port, "/readyz") == 200, timeout=6,
                                   interval=0.1), "/readyz not 200 after Redis came back")
        self.assertEqual(http_status(port, "/healthz"), 200)

    def test_unknown_path_and_other_methods(self):
        status, body = http_request(self.metrics_port, "/nope")
        self.assertEqual(status, 404, body)
        self.assertEqual(http_request(self.metrics_port, "/metrics", method="POST")[0], 405)
        self.assertEqual(http_request(self.metrics_port, "/readyz", method="POST")[0], 405)
        self.assertEqual(http_request(self.metrics_port, "/healthz?verbose=1")[0], 200)


class ReloadTest(OpsTest):
    def setUp(self):
        super().setUp()
        self.start_ops_stack()

    def peer_certificate(self):
        with tls_connect(self.proxy.token_port, self.tls_context()) as sock:
            return sock.getpeercert(binary_form=True)

    def test_sighup_applies_new_server_certificate_and_keeps_sessions(self):
        old_der = self.peer_certificate()
        subscriber = self.paho_client("sensor-1", "user-1", KEY)
        subscriber.subscribe("ops/reload", qos=1)
        publisher = self.paho_client("sensor-2", "user-2", OTHER_KEY)

        fresh = tempfile.mkdtemp(prefix="fresh-", dir=self.workdir)
        subprocess.run([AUTHCTL_BIN, "server-cert", "--ca", self.pki.dir, "--cn", "reloaded.example",
                        "--san", "localhost", "--san", "127.0.0.1", "--out", fresh],
                       check=True, capture_output=True, text=True)
        with open(os.path.join(fresh, "server.crt")) as f:
            new_der = ssl.PEM_cert_to_DER_cert(f.read())
        self.assertNotEqual(hashlib.sha256(new_der).digest(), hashlib.sha256(old_der).digest())
        # Written next to the originals, then renamed over them: each file changes atomically.
        for name, target in (("server.key", self.pki.server_key), ("server.crt", self.pki.server_cert)):
            shutil.copyfile(os.path.join(fresh, name), target + ".new")
            os.replace(target + ".new", target)
        self.proxy.proc.send_signal(signal.SIGHUP)
        self.assertTrue(self.log_has("reload (SIGHUP): applied"), self.proxy.log()[-2000:])

        self.assertEqual(hashlib.sha256(self.peer_certificate()).hexdigest(),
                         hashlib.sha256(new_der).hexdigest())
        self.assertEqual(self.raw_connack(connect_packet("ghost-1", "u", KEY)), 4)
        # The sessions opened before the reload still relay both ways.
        publisher.publish_acked("ops/reload", b"after-reload")
        message = subscriber.next_message()
        self.assertEqual(message.payload, b"after-reload")
        self.add_device("sensor-3", "user-3", KEY)
        newcomer = self.paho_client("sensor-3", "user-3", KEY)
        self.assertEqual(newcomer.connack, 0)
        newcomer.publish_acked("ops/reload", b"from-new-session")
        self.assertEqual(subscriber.next_message().payload, b"from-new-session")

    def test_sighup_with_broken_yaml_keeps_old_config(self):
        path = self.proxy.config_path
        with open(path) as f:
            original = f.read()
        lines = original.rstrip("\n").split("\n")
        cases = {
            # An unknown key: the error names its exact line.
            "unknown key": ("\n".join(lines + ["bogus_setting: 1"]) + "\n", len(lines) + 1),
            # Not YAML at all.
            "syntax error": ("\n".join(lines + ["listeners: [unclosed, {"]) + "\n", None),
        }
        for name, (text, line) in cases.items():
            with self.subTest(name):
                with open(path, "w") as f:
                    f.write(text)
                mark = len(self.proxy.log())
                self.proxy.proc.send_signal(signal.SIGHUP)
                pattern = re.compile(r"reload refused: " + re.escape(path) + r":(\d+):")
                self.assertTrue(wait_until(lambda: pattern.search(self.proxy.log()[mark:]), timeout=5),
                                self.proxy.log()[mark:])
                if line is not None:
                    self.assertIn(f"reload refused: {path}:{line}:", self.proxy.log()[mark:])
                self.assertNotIn("applied to new connections", self.proxy.log()[mark:])
                self.assertIsNone(self.proxy.proc.poll())
                self.assertEqual(self.raw_connack(self.good()), 0)
                self.assertEqual(http_status(self.metrics_port, "/healthz"), 200)
        with open(path, "w") as f:
            f.write(original)
        mark = len(self.proxy.log())
        self.proxy.proc.send_signal(signal.SIGHUP)
        self.assertTrue(wait_until(lambda: "reload (SIGHUP): applied" in self.proxy.log()[mark:]))

    def test_reload_command_signals_the_pid_file_process(self):
        self.assertTrue(wait_until(lambda: os.path.exists(self.pid_file)))
        with open(self.pid_file) as f:
            self.assertEqual(int(f.read().strip()), self.proxy.proc.pid)
        mark = len(self.proxy.log())
        out = subprocess.run([PROXY_BIN, "--reload", self.pid_file], capture_output=True, text=True,
                             timeout=10)
        self.assertEqual(out.returncode, 0, out.stderr)
        self.assertTrue(wait_until(lambda: "reload (SIGHUP)" in self.proxy.log()[mark:]),
                        self.proxy.log()[mark:])
        self.assertTrue(wait_until(lambda: "reload (SIGHUP): applied" in self.proxy.log()[mark:]))
        self.assertIsNone(self.proxy.proc.poll())

        missing = subprocess.run([PROXY_BIN, "--reload", os.path.join(self.workdir, "none.pid")],
                                 capture_output=True, text=True, timeout=10)
        self.assertNotEqual(missing.returncode, 0)

        self.assertEqual(self.proxy.stop(signal.SIGTERM), 0)
        self.assertFalse(os.path.exists(self.pid_file), "pid_file left behind after exit")


class DrainTest(OpsTest):
    def setUp(self):
        super().setUp()
        self.start_ops_stack()

    def test_sigterm_drains_sessions_until_the_grace_deadline(self):
        subscriber = self.raw_session(self.good())
        subscriber.sendall(subscribe_packet(1, "ops/drain", qos=0))
        self.assertEqual(read_packet(subscriber)[:1], b"\x90")
        v5 = self.raw_session(self.good("sensor-2", "user-2", OTHER_KEY, version=5))
        self.add_device("sensor-3", "user-3", KEY)
        publisher = self.paho_client("sensor-3", "user-3", KEY)

        self.proxy.proc.send_signal(signal.SIGTERM)
        sent = time.monotonic()
        for port in (self.proxy.token_port, self.proxy.cert_port):
            self.assertTrue(wait_until(lambda: connection_refused(port), timeout=0.5, interval=0.02),
                            f"port {port} still accepts after SIGTERM")
        self.assertLess(time.monotonic() - sent, 0.6)

        # During the grace the live 3.1.1 sessions relay.
        time.sleep(0.5)
        publisher.publish_acked("ops/drain", b"during-grace", qos=1)
        subscriber.settimeout(2)
        publish = read_packet(subscriber)
        self.assertEqual(publish[:1], b"\x30", publish)
        self.assertTrue(publish.endswith(b"during-grace"), publish)
        time.sleep(max(0.0, sent + GRACE_SECONDS - 1.0 - time.monotonic()))
        readable, _, _ = select.select([subscriber, v5], [], [], 0)
        self.assertEqual(readable, [], "a session ended before the grace deadline")

        # At the deadline: MQTT 5 gets DISCONNECT 0x8B, then every session is closed.
        v5.settimeout(GRACE_SECONDS + 3)
        disconnect = read_packet(v5)
        at = time.monotonic() - sent
        self.assertIn(disconnect, (b"\xe0\x02\x8b\x00", b"\xe0\x01\x8b"), disconnect.hex())
        self.assertGreaterEqual(at, GRACE_SECONDS - 0.3)
        self.assertLessEqual(at, GRACE_SECONDS + 1.5)
        self.assertEqual(v5.recv(1), b"")
        subscriber.settimeout(2)
        self.assertEqual(subscriber.recv(1), b"", "3.1.1 gets no DISCONNECT, only the close")

        code = self.proxy.proc.wait(timeout=max(0.1, sent + GRACE_SECONDS + 3 - time.monotonic()))
        self.assertEqual(code, 0, self.proxy.log()[-2000:])

    def test_sigterm_without_sessions_exits_promptly(self):
        sock = self.raw_session(self.good())
        sock.close()  # a session that already ended
        time.sleep(0.3)
        self.proxy.proc.send_signal(signal.SIGTERM)
        sent = time.monotonic()
        code = self.proxy.proc.wait(timeout=5)
        self.assertLess(time.monotonic() - sent, 1.5)
        self.assertEqual(code, 0, self.proxy.log()[-2000:])


class JsonLogTest(OpsTest):
    proxy_class = JsonLogProxy

    def setUp(self):
        super().setUp()
        self.start_ops_stack()

    def json_lines(self):
        with open(self.proxy.log_path, "rb") as f:
            raw = f.read()
        text = raw.decode("utf-8")  # strict: a log line must not carry invalid UTF-8
        out = []
        for number, line in enumerate(text.splitlines(), start=1):
            try:
                out.append(json.loads(line))
            except ValueError as error:
                self.fail(f"log line {number} is not JSON ({error}): {line!r}")
        return out

    def test_every_line_is_json_with_escaped_fields_and_no_secret(self):
        weird = 'dev"quote\\back'
        self.assertEqual(self.raw_connack(self.good()), 0)
        self.assertEqual(self.raw_connack(self.good(key=WRONG_KEY)), 4)
        self.assertEqual(self.raw_connack(connect_packet(weird, "user-1", KEY, version=5)), 0x86)
        self.proxy.proc.send_signal(signal.SIGHUP)
        self.assertTrue(self.log_has("applied to new connections"))

        lines = self.json_lines()
        self.assertGreater(len(lines), 3)
        for line in lines:
            self.assertIsInstance(line, dict)
            self.assertIn("ts", line)
            self.assertIn("level", line)
            self.assertTrue("event" in line or "msg" in line, line)
        refusals = [l for l in lines if l.get("event") == "connect_refused"]
        by_device = {l.get("device"): l for l in refusals}
        self.assertEqual(set(by_device), {"sensor-1", weird}, refusals)
        for device, reason in (("sensor-1", "bad_secret"), (weird, "unknown_device")):
            line = by_device[device]
            for field in ("event", "device", "listener", "peer", "reason"):
                self.assertIn(field, line)
            self.assertEqual(line["reason"], reason)
            self.assertEqual(line["listener"], "token")
            self.assertRegex(line["peer"], r"^127\.0\.0\.1:\d+$")
        accepted = [l for l in lines if l.get("event") == "connect_accepted"]
        self.assertEqual([l.get("device") for l in accepted], ["sensor-1"])

        with open(self.proxy.log_path, "rb") as f:
            raw = f.read()
        for secret in (KEY, OTHER_KEY, WRONG_KEY):
            self.assertNotIn(secret.encode(), raw)


class RefusalRateLimitTest(OpsTest):
    def setUp(self):
        super().setUp()
        self.start_ops_stack()

    def refusal_lines(self):
        return [l for l in self.proxy.log().splitlines() if " connect_refused " in l]

    def test_flood_of_refusals_is_rate_limited_and_counted(self):
        flood = 100
        ctx = self.tls_context()

        def refused(device):
            raw = socket.create_connection(("127.0.0.1", self.proxy.token_port), timeout=5)
            # Without it the CONNECT waits behind the TLS Finished for a delayed ACK (40 ms).
            raw.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            with ctx.wrap_socket(raw, server_hostname="localhost") as sock:
                sock.sendall(connect_packet(device, "nobody", WRONG_KEY))
                return connack_code(read_packet(sock))

        started = time.monotonic()
        for i in range(flood):
            # 4 until the source address is banned after 20 failures, then 5.
            self.assertIn(refused(f"ghost-{i}"), (4, 5))
            time.sleep(0.001)
        elapsed = time.monotonic() - started
        self.assertLess(elapsed, 4.0, "flood too slow to exceed 20 lines a second")
        time.sleep(1.2)  # a fresh one-second window
        self.assertEqual(refused("ghost-last"), 5)

        lines = self.refusal_lines()
        self.assertLess(len(lines), flood)
        self.assertIn("device=ghost-last", lines[-1])
        counts = [re.search(r" suppressed=(\d+)", l) for l in lines]
        suppressed = [int(m.group(1)) for m in counts if m]
        self.assertTrue(suppressed, "no line says how many were suppressed")
        # The count comes on a later line, after a full second's budget was written.
        first = next(i for i, m in enumerate(counts) if m)
        self.assertGreaterEqual(first, 20, "\n".join(lines))
        # Nothing is lost without trace: written lines plus suppressed counts add up.
        self.assertEqual(len(lines) + sum(suppressed), flood + 1, "\n".join(lines))


if __name__ == "__main__":
    unittest.main()
