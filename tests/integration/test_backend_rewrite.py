"""The broker sees the rewritten CONNECT, not the device's: proven against a Mosquitto that
only knows the backend credential, and byte for byte against a recording fake broker."""
import os
import socket
import subprocess
import time
import unittest

from harness import (IntegrationTest, RecordingBroker, connack_code, connect_packet,
                     mqtt_string, read_packet)

KEY = "0123456789abcdef0123456789abcdef"
OTHER_KEY = "fedcba9876543210fedcba9876543210"


def direct_connack(port, packet):
    """CONNACK code Mosquitto answers to |packet| on a plain TCP connection."""
    with socket.create_connection(("127.0.0.1", port), timeout=5.0) as sock:
        sock.sendall(packet)
        return connack_code(read_packet(sock))


class BrokerKnowsOnlyBackendCredential(IntegrationTest):
    def setUp(self):
        super().setUp()
        password_file = os.path.join(self.workdir, "mosquitto.passwd")
        subprocess.run(["mosquitto_passwd", "-b", "-c", password_file,
                        "backend-user", "backend-pass"], check=True, capture_output=True)
        os.chmod(password_file, 0o600)
        self.start_stack(password_file=password_file,
                         rewrite={"username": "backend-user", "password": "backend-pass"})
        self.add_device("sensor-1", "user-1", KEY)
        self.add_device("watcher", "user-w", OTHER_KEY)

    def test_device_gets_in_only_through_the_proxy(self):
        through_proxy = connect_packet("sensor-1", "user-1", KEY)
        self.assertEqual(self.raw_connack(through_proxy), 0)
        # The same CONNECT sent straight to Mosquitto is refused: not authorised.
        self.assertEqual(direct_connack(self.broker.port, through_proxy), 5)
        # Sanity: the backend credential itself is what Mosquitto accepts.
        self.assertEqual(direct_connack(self.broker.port, connect_packet(
            "direct", "backend-user", "backend-pass")), 0)

    def test_devices_exchange_messages_through_the_proxy(self):
        watcher = self.paho_client("watcher", "user-w", OTHER_KEY)
        self.assertEqual(watcher.connack, 0)
        watcher.subscribe("plant/#", qos=1)
        sensor = self.paho_client("sensor-1", "user-1", KEY)
        self.assertEqual(sensor.connack, 0)
        sensor.publish_acked("plant/temp", b"20", qos=1)
        self.assertEqual(watcher.next_message().payload, b"20")

    def test_wrong_key_never_reaches_the_broker_credential(self):
        self.assertEqual(self.raw_connack(connect_packet("sensor-1", "user-1", OTHER_KEY)), 4)

    def test_backend_password_and_device_key_not_logged(self):
        self.assertEqual(self.raw_connack(connect_packet("sensor-1", "user-1", KEY)), 0)
        self.proxy.stop()  # flushes the log
        log = self.proxy.log()
        self.assertIn("sensor-1", log)
        self.assertNotIn("backend-pass", log)
        self.assertNotIn(KEY, log)


class ForwardedConnectBytes(IntegrationTest):
    """Only client ID, username and password change; everything else is forwarded as sent,
    followed by whatever the client pipelined."""

    def start(self, rewrite=None):
        self.recorder = RecordingBroker()
        self.start_stack(broker=self.recorder, rewrite=rewrite)
        self.add_device("sensor-1", "user-1", KEY)

    def forwarded(self, packet, trailing=b""):
        """What the broker received on the connection made for |packet| (+ |trailing| in the
        same write); grows while the connection lives."""
        _, reply = self.raw_exchange(packet + trailing)
        self.assertEqual(connack_code(reply), 0)
        return self.recorder.next_connection()

    def test_default_rewrite_username_is_device_id_and_password_dropped(self):
        self.start()
        sent = connect_packet("sensor-1", "user-1", KEY, keep_alive=33, clean=False)
        expected = connect_packet("sensor-1", "sensor-1", None, keep_alive=33, clean=False)
        self.assertEqual(bytes(self.forwarded(sent)), expected)

    def test_backend_credential_rewrite(self):
        self.start(rewrite={"username": "backend-user", "password": "backend-pass"})
        sent = connect_packet("sensor-1", "user-1", KEY)
        expected = connect_packet("sensor-1", "backend-user", "backend-pass")
        self.assertEqual(bytes(self.forwarded(sent)), expected)

    def test_templates_with_listener_and_device_fields(self):
        self.start(rewrite={"client_id": "${listener}-${client_id}",
                            "username": "${device.username}@${device_id}"})
        sent = connect_packet("sensor-1", "user-1", KEY)
        expected = connect_packet("token-sensor-1", "user-1@sensor-1", None)
        self.assertEqual(bytes(self.forwarded(sent)), expected)

    def test_mqtt5_properties_and_will_kept_byte_for_byte(self):
        self.start()
        properties = (bytes([0x11]) + (3600).to_bytes(4, "big")          # session expiry
                      + bytes([0x21]) + (20).to_bytes(2, "big")          # receive maximum
                      + bytes([0x26]) + mqtt_string("site") + mqtt_string("north")  # user prop
                      + bytes([0x26]) + mqtt_string("site") + mqtt_string("south"))
        will = ("plant/sensor-1/status", b"offline", 1, True,
                bytes([0x18]) + (5).to_bytes(4, "big"))                  # will delay
        sent = connect_packet("sensor-1", "user-1", KEY, version=5, keep_alive=45,
                              properties=properties, will=will)
        expected = connect_packet("sensor-1", "sensor-1", None, version=5, keep_alive=45,
                                  properties=properties, will=will)
        self.assertEqual(bytes(self.forwarded(sent)), expected)

    def test_mqtt31_and_will_v311(self):
        self.start()
        will = ("plant/status", b"gone", 2, False)
        for version in (3, 4):
            with self.subTest(version=version):
                sent = connect_packet("sensor-1", "user-1", KEY, version=version, will=will)
                expected = connect_packet("sensor-1", "sensor-1", None, version=version,
                                          will=will)
                self.assertEqual(bytes(self.forwarded(sent)), expected)

    def test_pipelined_bytes_follow_the_rewritten_connect(self):
        self.start()
        pingreq, disconnect = bytes([0xC0, 0x00]), bytes([0xE0, 0x00])
        sent = connect_packet("sensor-1", "user-1", KEY)
        received = self.forwarded(sent, trailing=pingreq + disconnect)
        expected = connect_packet("sensor-1", "sensor-1", None) + pingreq + disconnect
        deadline = time.monotonic() + 3
        while len(received) < len(expected) and time.monotonic() < deadline:
            time.sleep(0.05)
        self.assertEqual(bytes(received), expected)


if __name__ == "__main__":
    unittest.main()
