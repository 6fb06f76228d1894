"""Hostile clients: 500 connections of a dozen abusive kinds at once, while 50 good devices
publish and receive QoS 1 messages and a subscriber that never reads is flooded with 50 MB.

The proxy must close every hostile connection on its own (no CONNACK for malformed input,
connect_timeout for the silent and slow ones), lose nothing for the good devices, keep its
memory bounded under the flood and return near its baseline afterwards, and stay alive.
"""
import os
import random
import socket
import ssl
import sys
import threading
import time
import unittest
from concurrent.futures import ThreadPoolExecutor

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from raw_client import Device, MqttError, is_sanitized, publish_packet, rss_kib  # noqa: E402
from harness import (IntegrationTest, connect_packet, remaining_length,  # noqa: E402
                     subscribe_packet, tls_connect, read_packet, connack_code)

CONNECT_TIMEOUT_S = 2
KEY = "0123456789abcdef0123456789abcdef"
HOSTILE_TOTAL = 500
HOSTILE_PARALLEL = 100
GOOD_DEVICES = 50
GOOD_MESSAGES = 20
FLOOD_BYTES = 50 * 1024 * 1024
FLOOD_CHUNK = 256 * 1024


def closes(sock, timeout):
    """(closed, bytes received before the close, seconds until the close). Reads until EOF or
    reset; |closed| is False when the peer kept the connection open for |timeout|."""
    started = time.monotonic()
    received = b""
    sock.settimeout(timeout)
    try:
        while True:
            chunk = sock.recv(4096)
            if not chunk:
                return True, received, time.monotonic() - started
            received += chunk
            if time.monotonic() - started > timeout:
                return False, received, time.monotonic() - started
    except (ConnectionResetError, BrokenPipeError, ssl.SSLError):
        return True, received, time.monotonic() - started
    except socket.timeout:
        return False, received, time.monotonic() - started


class HostileClients(IntegrationTest):
    def setUp(self):
        super().setUp()
        self.start_stack(limits={"connect_timeout": f"{CONNECT_TIMEOUT_S}s"})
        self.port = self.proxy.token_port
        self.ctx = self.tls_context()
        for i in range(GOOD_DEVICES):
            self.add_device(f"good-{i}", f"user-good-{i}", KEY)
        for name in ("halfclose", "flooder", "sink"):
            self.add_device(name, f"user-{name}", KEY)

    # ---- the hostile kinds: each returns None when the proxy behaved, else a complaint ----

    def tls(self):
        return tls_connect(self.port, self.ctx)

    def expect_silent_close(self, sock, timeout=5.0):
        closed, received, elapsed = closes(sock, timeout)
        if not closed:
            return f"still open after {elapsed:.1f}s"
        if received:
            return f"answered {received[:16]!r} instead of closing"
        return None

    def plain_tcp_to_tls_port(self):
        with socket.create_connection(("127.0.0.1", self.port), timeout=5) as sock:
            sock.sendall(connect_packet("plain", "u", KEY))
            closed, received, elapsed = closes(sock, 5.0)
            if not closed:
                return f"plain TCP still open after {elapsed:.1f}s"
            if b"\x20\x02" in received:
                return "plain TCP got an MQTT answer"

    def tls_garbage(self):
        with socket.create_connection(("127.0.0.1", self.port), timeout=5) as sock:
            sock.sendall(b"\x16\x03\x01\x00\x40" + random.randbytes(64) + random.randbytes(200))
            closed, _, elapsed = closes(sock, 5.0)
            return None if closed else f"TLS garbage still open after {elapsed:.1f}s"

    def client_hello_then_silence(self):
        incoming, outgoing = ssl.MemoryBIO(), ssl.MemoryBIO()
        tls = self.ctx.wrap_bio(incoming, outgoing, server_hostname="localhost")
        try:
            tls.do_handshake()
        except ssl.SSLWantReadError:
            pass
        with socket.create_connection(("127.0.0.1", self.port), timeout=5) as sock:
            sock.sendall(outgoing.read())
            closed, _, elapsed = closes(sock, CONNECT_TIMEOUT_S + 4)
            return None if closed else f"ClientHello+silence open after {elapsed:.1f}s"

    def tls_then_silence(self):
        with self.tls() as sock:
            closed, received, elapsed = closes(sock, CONNECT_TIMEOUT_S + 4)
            if not closed:
                return f"TLS+silence still open after {elapsed:.1f}s"
            return f"TLS+silence got {received[:16]!r}" if received else None

    def slowloris(self):
        packet = connect_packet("slow", "user-slow", KEY)
        started = time.monotonic()
        with self.tls() as sock:
            for i in range(len(packet)):
                try:
                    sock.sendall(packet[i:i + 1])
                except (OSError, ssl.SSLError):
                    break
                sock.settimeout(1.0)
                try:
                    if sock.recv(1) in (b"",):
                        break
                    return "slowloris got an answer"
                except socket.timeout:
                    pass
                except (ConnectionResetError, ssl.SSLError):
                    break
            else:
                return "slowloris sent its whole CONNECT without being closed"
            elapsed = time.monotonic() - started
            if elapsed > CONNECT_TIMEOUT_S + 4:
                return f"slowloris closed only after {elapsed:.1f}s"

    def malformed(self, data):
        with self.tls() as sock:
            try:
                sock.sendall(data)
            except (OSError, ssl.SSLError):
                return None  # closed while we were still sending: fine
            return self.expect_silent_close(sock)

    def remaining_length_5_bytes(self):
        return self.malformed(b"\x10\xff\xff\xff\xff\x7f" + b"\x00" * 32)

    def oversize_connect(self):
        # limits.max_connect_packet is 65536: announce 200000 bytes and send them.
        body = b"\x00\x04MQTT\x04\x02\x00\x3c" + b"\x00" * 200_000
        return self.malformed(b"\x10" + remaining_length(len(body)) + body)

    def first_packet_not_connect(self):
        return self.malformed(publish_packet("a/b", b"hello"))

    def wrong_protocol_name(self):
        packet = bytearray(connect_packet("wrong", "u", KEY))
        packet[4:8] = b"MQTX"
        return self.malformed(bytes(packet))

    def reserved_flag_set(self):
        packet = bytearray(connect_packet("reserved", "u", KEY))
        packet[9] |= 0x01
        return self.malformed(bytes(packet))

    def v5_malformed_property(self):
        # Session Expiry Interval (0x11) needs four bytes; the property list has two.
        return self.malformed(connect_packet("v5bad", "u", KEY, version=5,
                                             properties=b"\x11\x00\x00"))

    def half_closed(self):
        with self.tls() as sock:
            sock.sendall(connect_packet("halfclose", "user-halfclose", KEY))
            sock.shutdown(socket.SHUT_WR)  # raw TCP half-close under the TLS session
            closed, _, elapsed = closes(sock, 10.0)
            return None if closed else f"half-closed still open after {elapsed:.1f}s"

    KINDS = ["plain_tcp_to_tls_port", "tls_garbage", "client_hello_then_silence",
             "tls_then_silence", "slowloris", "remaining_length_5_bytes", "oversize_connect",
             "first_packet_not_connect", "wrong_protocol_name", "reserved_flag_set",
             "v5_malformed_property", "half_closed"]

    def run_hostile(self, kind):
        started = time.monotonic()
        try:
            return kind, getattr(self, kind)(), time.monotonic() - started
        except (OSError, ssl.SSLError) as error:
            # A reset or refused handshake is the proxy closing on us; only a timeout of
            # our own connect means it did not answer at all.
            if isinstance(error, socket.timeout):
                return kind, f"connect timed out: {error}", time.monotonic() - started
            return kind, None, time.monotonic() - started

    # ---- the good devices and the flood -----------------------------------------------------

    def good_device(self, i):
        device = Device(self.port, self.ctx, f"good-{i}", f"user-good-{i}", KEY,
                        version=5 if i % 2 else 4, timeout=20)
        try:
            code = device.connect()
            if code != 0:
                return f"good-{i}: CONNACK {code}"
            topic = f"good/{i}"
            device.subscribe(topic, qos=1)
            sent = []
            for n in range(GOOD_MESSAGES):
                sent.append(device.publish(topic, f"{i}:{n}".encode(), qos=1))
                time.sleep(0.1)
            device.pump(lambda: set(sent) <= device.acked and
                        len(device.received) >= GOOD_MESSAGES, timeout=30)
            got = sorted(p.decode() for _, p in device.received)
            want = sorted(f"{i}:{n}" for n in range(GOOD_MESSAGES))
            return None if got == want else f"good-{i}: received {got}, want {want}"
        except (MqttError, OSError, ssl.SSLError) as error:
            return f"good-{i}: {error!r}"
        finally:
            device.disconnect()

    def flood(self):
        """A subscriber that never reads while a publisher sends FLOOD_BYTES to its topic
        (the test samples the proxy's RSS meanwhile). Returns a complaint or None."""
        sink = Device(self.port, self.ctx, "sink", "user-sink", KEY)
        flooder = Device(self.port, self.ctx, "flooder", "user-flooder", KEY, timeout=60)
        try:
            if sink.connect() != 0 or flooder.connect() != 0:
                return "flood clients refused"
            sink.subscribe("flood/sink", qos=0)
            # From here on the sink never reads.
            chunk = random.randbytes(FLOOD_CHUNK)
            sent = 0
            while sent < FLOOD_BYTES:
                flooder.sock.sendall(publish_packet("flood/sink", chunk, qos=0))
                sent += FLOOD_CHUNK
            # A round trip proves the broker took everything the flooder sent.
            flooder.publish("flood/done", b"x", qos=1)
            flooder.pump(lambda: flooder.acked, timeout=60)
            time.sleep(1.0)
            # The flood did reach the sink's connection: its first packet is waiting.
            first = read_packet(sink.sock)
            if first[:1] != b"\x30" or b"flood/sink" not in first[:16]:
                return f"sink got {first[:16]!r} instead of the flood"
            return None
        except (MqttError, OSError, ssl.SSLError) as error:
            return f"flood: {error!r}"
        finally:
            sink.close()
            flooder.disconnect()

    def test_hostile_clients_while_good_devices_work(self):
        pid = self.proxy.proc.pid
        # Baseline after a warm-up: TLS contexts, the Redis connection and the first
        # allocations of the event loop are in place.
        warm = Device(self.port, self.ctx, "good-0", "user-good-0", KEY)
        self.assertEqual(warm.connect(), 0)
        warm.disconnect()
        time.sleep(0.5)
        baseline = rss_kib(pid)

        peak = [baseline]
        sampling = threading.Event()

        def sample():
            while not sampling.is_set():
                try:
                    peak[0] = max(peak[0], rss_kib(pid))
                except OSError:
                    return
                time.sleep(0.05)
        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()

        started = time.monotonic()
        kinds = [self.KINDS[i % len(self.KINDS)] for i in range(HOSTILE_TOTAL)]
        random.Random(8).shuffle(kinds)
        with ThreadPoolExecutor(max_workers=HOSTILE_PARALLEL) as hostile_pool, \
                ThreadPoolExecutor(max_workers=GOOD_DEVICES + 1) as good_pool:
            hostile = [hostile_pool.submit(self.run_hostile, k) for k in kinds]
            time.sleep(0.5)  # the good devices start while the hostile ones are in flight
            flood = good_pool.submit(self.flood)
            good = [good_pool.submit(self.good_device, i) for i in range(GOOD_DEVICES)]
            good_complaints = [c for c in (f.result() for f in good) if c]
            flood_complaint = flood.result()
            flood_peak = peak[0]
            hostile_results = [f.result() for f in hostile]
        elapsed = time.monotonic() - started

        # Everything is closed on our side; give the proxy a moment to release it.
        wait = time.monotonic()
        while time.monotonic() - wait < 10 and rss_kib(pid) > baseline + 20 * 1024:
            time.sleep(0.5)
        sampling.set()
        after = rss_kib(pid)

        hostile_complaints = [f"{k}: {c}" for k, c, _ in hostile_results if c]
        for kind in self.KINDS:
            times = [t for k, _, t in hostile_results if k == kind]
            print(f"  {kind}: {len(times)} connections, closed after {min(times):.2f}.."
                  f"{max(times):.2f}s", file=sys.stderr)
        print(f"\nhostile: {HOSTILE_TOTAL} connections, {len(hostile_complaints)} complaints; "
              f"good: {GOOD_DEVICES} devices x {GOOD_MESSAGES} QoS 1 messages, "
              f"{len(good_complaints)} complaints; RSS baseline {baseline} KiB, peak "
              f"{flood_peak} KiB, after {after} KiB; {elapsed:.1f}s", file=sys.stderr)
        self.assertEqual(hostile_complaints, [])
        self.assertEqual(good_complaints, [])
        self.assertIsNone(flood_complaint)
        self.assertIsNone(self.proxy.proc.poll(), "the proxy died")
        if not is_sanitized(pid):  # make test-asan checks the rest; RSS is for make test
            self.assertLess(flood_peak, baseline + 64 * 1024, "RSS not bounded under the flood")
            self.assertLess(after, baseline + 20 * 1024, "RSS did not return near the baseline")
        # Still serving.
        device = Device(self.port, self.ctx, "good-1", "user-good-1", KEY)
        self.assertEqual(device.connect(), 0)
        device.disconnect()


if __name__ == "__main__":
    unittest.main()
