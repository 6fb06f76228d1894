"""Bytes a client sends right behind its CONNECT, in the same TLS write, reach the broker
after the rewritten CONNECT: nothing is lost while the proxy authenticates."""
import queue
import unittest

from harness import (IntegrationTest, connack_code, connect_packet, mqtt_string, read_packet,
                     remaining_length, subscribe_packet, tls_connect)

KEY = "0123456789abcdef0123456789abcdef"
OTHER_KEY = "fedcba9876543210fedcba9876543210"


def publish_qos1_packet(packet_id, topic, payload, version=4):
    body = mqtt_string(topic) + packet_id.to_bytes(2, "big")
    if version == 5:
        body += b"\x00"
    body += payload
    return bytes([0x32]) + remaining_length(len(body)) + body


class PipelinedClients(IntegrationTest):
    def setUp(self):
        super().setUp()
        self.start_stack()
        self.add_device("sensor-1", "user-1", KEY)
        self.add_device("watcher", "user-w", OTHER_KEY)

    def open_with(self, data):
        sock = tls_connect(self.proxy.token_port, self.tls_context())
        self.addCleanup(sock.close)
        sock.sendall(data)  # a single TLS record
        return sock

    def test_connect_and_subscribe_in_one_write_get_connack_then_suback(self):
        for version in (4, 5):
            with self.subTest(version=version):
                sock = self.open_with(connect_packet("sensor-1", "user-1", KEY, version=version)
                                      + subscribe_packet(7, "plant/#", qos=1, version=version))
                self.assertEqual(connack_code(read_packet(sock)), 0)
                suback = read_packet(sock)
                self.assertEqual(suback[0], 0x90, f"expected SUBACK, got {suback!r}")
                self.assertEqual(suback[2:4], (7).to_bytes(2, "big"))
                self.assertEqual(suback[-1], 1, "granted QoS 1")
                # The subscription is live on the broker: another device's message arrives.
                publisher = self.paho_client("watcher", "user-w", OTHER_KEY)
                publisher.publish_acked("plant/temp", b"hello", qos=1)
                message = read_packet(sock)
                self.assertEqual(message[0] & 0xF0, 0x30, f"expected PUBLISH, got {message!r}")
                self.assertIn(b"plant/temp", message)
                self.assertTrue(message.endswith(b"hello"))
                publisher.close()
                sock.close()

    def test_connect_and_qos1_publish_in_one_write_get_connack_then_puback(self):
        watcher = self.paho_client("watcher", "user-w", OTHER_KEY)
        watcher.subscribe("plant/#", qos=1)
        for version in (4, 5):
            with self.subTest(version=version):
                sock = self.open_with(
                    connect_packet("sensor-1", "user-1", KEY, version=version)
                    + publish_qos1_packet(42, "plant/level", b"v%d" % version, version=version))
                self.assertEqual(connack_code(read_packet(sock)), 0)
                puback = read_packet(sock)
                self.assertEqual(puback[0], 0x40, f"expected PUBACK, got {puback!r}")
                self.assertEqual(puback[2:4], (42).to_bytes(2, "big"))
                message = watcher.next_message()
                self.assertEqual((message.topic, message.payload), ("plant/level", b"v%d" % version))
                sock.close()

    def test_refused_connect_drops_pipelined_bytes(self):
        watcher = self.paho_client("watcher", "user-w", OTHER_KEY)
        watcher.subscribe("plant/#", qos=1)
        sock = self.open_with(connect_packet("sensor-1", "user-1", OTHER_KEY)
                              + publish_qos1_packet(1, "plant/sneak", b"x"))
        self.assertEqual(read_packet(sock), bytes([0x20, 0x02, 0x00, 0x04]))
        self.assertEqual(read_packet(sock), b"", "connection must close after the refusal")
        with self.assertRaises(queue.Empty):
            watcher.next_message(timeout=0.5)


if __name__ == "__main__":
    unittest.main()
