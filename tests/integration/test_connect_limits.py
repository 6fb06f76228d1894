"""How the proxy reads the first packet: any TLS record split is fine, but size, time and
shape are bounded; a bad client is closed without a CONNACK and costs nobody else."""
import socket
import ssl
import time
import unittest

from harness import (IntegrationTest, broker_connections, closed_without_data, connack_code,
                     connect_packet, read_packet, tls_connect)

KEY = "0123456789abcdef0123456789abcdef"


class ConnectLimits(IntegrationTest):
    def setUp(self):
        super().setUp()
        self.start_stack(limits={"connect_timeout": "1s", "max_connect_packet": 65536})
        self.add_device("sensor-1", "user-1", KEY)

    def tearDown(self):
        if not self.has_failed():
            self.assert_good_device_connects()

    def assert_good_device_connects(self):
        """Nothing a bad client did may cost a good one its connection."""
        self.assertEqual(self.raw_connack(connect_packet("sensor-1", "user-1", KEY)), 0)

    def open_tls(self):
        sock = tls_connect(self.proxy.token_port, self.tls_context())
        self.addCleanup(sock.close)
        return sock

    def send_tolerating_close(self, sock, data):
        """Sends |data|; the proxy may legitimately close while we are still writing."""
        try:
            sock.sendall(data)
        except (BrokenPipeError, ConnectionResetError, ssl.SSLError):
            pass

    def assert_closed_without_data_and_no_backend(self, sock):
        self.assertTrue(closed_without_data(sock, timeout=5.0),
                        "expected the proxy to close without sending anything")
        self.assertEqual(broker_connections(self.broker.port), 0)

    def test_connect_in_one_byte_tls_records_is_accepted(self):
        sock = self.open_tls()
        packet = connect_packet("sensor-1", "user-1", KEY)
        for i in range(len(packet)):
            self.assertEqual(sock.send(packet[i:i + 1]), 1)  # one TLS record per byte
        self.assertEqual(connack_code(read_packet(sock)), 0)

    def test_v5_connect_in_one_byte_tls_records_is_accepted(self):
        sock = self.open_tls()
        packet = connect_packet("sensor-1", "user-1", KEY, version=5)
        for i in range(len(packet)):
            sock.send(packet[i:i + 1])
        self.assertEqual(connack_code(read_packet(sock)), 0)

    def test_100kb_connect_is_closed_without_connack(self):
        # An MQTT string holds at most 65535 bytes, so the 100 KB go into username + password.
        sock = self.open_tls()
        packet = connect_packet("sensor-1", "u" * 50000, "p" * 50000)
        self.assertGreater(len(packet), 100000)
        self.send_tolerating_close(sock, packet)
        self.assert_closed_without_data_and_no_backend(sock)
        self.assertIsNone(self.proxy.proc.poll(), "proxy exited")

    def test_connect_just_under_limit_is_judged_on_its_credentials(self):
        # 65536 bytes in total is allowed: the key is wrong, so the answer is CONNACK 4.
        filler = 65536 - len(connect_packet("sensor-1", "user-1", ""))
        packet = connect_packet("sensor-1", "user-1", "p" * filler)
        packet = connect_packet("sensor-1", "user-1", "p" * (filler - (len(packet) - 65536)))
        self.assertEqual(len(packet), 65536)
        self.assertEqual(self.raw_connack(packet), 4)

    def test_silent_client_after_tls_is_closed_after_connect_timeout(self):
        sock = self.open_tls()
        started = time.monotonic()
        self.assertTrue(closed_without_data(sock, timeout=5.0))
        elapsed = time.monotonic() - started
        self.assertGreater(elapsed, 0.7, "closed before limits.connect_timeout (1s)")
        self.assertLess(elapsed, 2.5, "not closed soon after limits.connect_timeout (1s)")

    def test_client_that_never_starts_tls_is_closed_after_connect_timeout(self):
        raw = socket.create_connection(("127.0.0.1", self.proxy.token_port), timeout=5.0)
        self.addCleanup(raw.close)
        started = time.monotonic()
        try:
            data = raw.recv(1)
        except ConnectionResetError:
            data = b""
        self.assertEqual(data, b"")
        self.assertLess(time.monotonic() - started, 2.5)

    def test_first_packet_pingreq_is_closed_without_data(self):
        sock = self.open_tls()
        sock.sendall(bytes([0xC0, 0x00]))
        self.assert_closed_without_data_and_no_backend(sock)

    def test_connect_with_reserved_flag_bit_is_closed_without_data(self):
        packet = bytearray(connect_packet("sensor-1", "user-1", KEY))
        flags_index = 2 + 6 + 1  # fixed header (1-byte length), "MQTT", level
        self.assertEqual(packet[flags_index] & 0xC2, 0xC2)
        packet[flags_index] |= 0x01
        sock = self.open_tls()
        sock.sendall(bytes(packet))
        self.assert_closed_without_data_and_no_backend(sock)

    def test_connect_with_bad_fixed_header_flags_is_closed_without_data(self):
        packet = bytearray(connect_packet("sensor-1", "user-1", KEY))
        packet[0] = 0x11  # CONNECT's fixed-header flags must be 0
        sock = self.open_tls()
        sock.sendall(bytes(packet))
        self.assert_closed_without_data_and_no_backend(sock)

    def test_overlong_remaining_length_is_closed_without_data(self):
        sock = self.open_tls()
        sock.sendall(bytes([0x10, 0xFF, 0xFF, 0xFF, 0xFF, 0x01]))
        self.assert_closed_without_data_and_no_backend(sock)

    def test_truncated_connect_then_close_costs_nothing(self):
        sock = self.open_tls()
        sock.sendall(connect_packet("sensor-1", "user-1", KEY)[:10])
        sock.close()
        time.sleep(0.2)
        self.assertIsNone(self.proxy.proc.poll(), "proxy exited")


if __name__ == "__main__":
    unittest.main()
