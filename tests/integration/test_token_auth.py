"""Token listener, end to end: devices authenticate with their key and talk to a real
Mosquitto through the proxy; every refusal gets the CONNACK code of DESIGN.md and leaves
no connection open to the broker."""
import subprocess
import time
import unittest

from harness import (IntegrationTest, broker_connections, connect_packet,
                     mqtt_string, paho, remaining_length)

KEY = "0123456789abcdef0123456789abcdef"
OTHER_KEY = "fedcba9876543210fedcba9876543210"


class TokenDevicesTalkThroughProxy(IntegrationTest):
    def setUp(self):
        super().setUp()
        self.start_stack()
        self.add_device("sensor-1", "user-1", KEY)
        self.add_device("watcher", "user-w", OTHER_KEY)

    def subscribed_watcher(self, topic, protocol=paho.MQTTv311):
        watcher = self.paho_client("watcher", "user-w", OTHER_KEY, protocol=protocol)
        self.assertEqual(watcher.connack, 0)
        watcher.subscribe(topic, qos=1)
        return watcher

    def test_paho_v311_qos1_publish_reaches_subscriber_through_proxy(self):
        watcher = self.subscribed_watcher("plant/temp")
        sensor = self.paho_client("sensor-1", "user-1", KEY)
        self.assertEqual(sensor.connack, 0)
        sensor.publish_acked("plant/temp", b"21.5", qos=1)
        message = watcher.next_message()
        self.assertEqual((message.topic, message.payload, message.qos),
                         ("plant/temp", b"21.5", 1))
        # Both devices reach the broker through the proxy, one backend connection each.
        self.assertEqual(broker_connections(self.broker.port), 2)

    def test_paho_v5_connects(self):
        sensor = self.paho_client("sensor-1", "user-1", KEY, protocol=paho.MQTTv5)
        self.assertEqual(sensor.connack, 0)

    def test_mosquitto_pub_v5_qos1_publish_reaches_subscriber_through_proxy(self):
        watcher = self.subscribed_watcher("plant/pressure", protocol=paho.MQTTv5)
        result = subprocess.run(
            ["mosquitto_pub", "-V", "mqttv5", "-h", "127.0.0.1",
             "-p", str(self.proxy.token_port), "--cafile", self.pki.ca, "--insecure",
             "-i", "sensor-1", "-u", "user-1", "-P", KEY,
             "-t", "plant/pressure", "-m", "1013", "-q", "1"],
            capture_output=True, text=True, timeout=15)
        self.assertEqual(result.returncode, 0, result.stdout + result.stderr)
        message = watcher.next_message()
        self.assertEqual((message.topic, message.payload, message.qos),
                         ("plant/pressure", b"1013", 1))

    def test_no_key_in_the_debug_log(self):
        self.assertEqual(self.raw_connack(connect_packet("sensor-1", "user-1", KEY)), 0)
        wrong = "wrong-key-that-must-not-be-logged"
        self.assertEqual(self.raw_connack(connect_packet("sensor-1", "user-1", wrong)), 4)
        self.assertEqual(self.raw_connack(connect_packet("sensor-1", "user-1", wrong,
                                                         version=5)), 0x86)
        self.proxy.stop()  # flushes the log
        log = self.proxy.log()
        self.assertIn("sensor-1", log, "expected connection outcome lines naming the device")
        self.assertNotIn(KEY, log)
        self.assertNotIn(wrong, log)

    def test_mqtt31_device_is_accepted(self):
        code = self.raw_connack(connect_packet("sensor-1", "user-1", KEY, version=3))
        self.assertEqual(code, 0)


def auth_method_property(method="SCRAM-SHA-1"):
    return bytes([0x15]) + mqtt_string(method)


class RefusalsOnTokenListener(IntegrationTest):
    """Each case: the exact CONNACK code for 3.1.1 and 5.0, and no broker connection left."""

    def setUp(self):
        super().setUp()
        self.start_stack()
        self.add_device("sensor-1", "user-1", KEY)
        self.add_device("sensor-off", "user-off", KEY, enabled=False)
        self.add_device("cert-dev", "user-c", auth="cert")
        self.baseline = broker_connections(self.broker.port)

    def assert_refused(self, packet, expected_code):
        code = self.raw_connack(packet)
        self.assertEqual(code, expected_code, f"CONNACK for {packet[:40]!r}...")
        time.sleep(0.2)
        self.assertEqual(broker_connections(self.broker.port), self.baseline,
                         "a refused CONNECT left a connection open to the broker")

    def assert_refused_v4_v5(self, code_v4, code_v5, client_id, username, password):
        with self.subTest(version="3.1.1"):
            self.assert_refused(connect_packet(client_id, username, password, version=4), code_v4)
        with self.subTest(version="5.0"):
            self.assert_refused(connect_packet(client_id, username, password, version=5), code_v5)

    def test_wrong_key(self):
        self.assert_refused_v4_v5(4, 0x86, "sensor-1", "user-1", OTHER_KEY)

    def test_unknown_device(self):
        self.assert_refused_v4_v5(4, 0x86, "nobody", "user-1", KEY)

    def test_username_mismatch(self):
        self.assert_refused_v4_v5(4, 0x86, "sensor-1", "user-2", KEY)

    def test_no_password(self):
        self.assert_refused_v4_v5(4, 0x86, "sensor-1", "user-1", None)

    def test_cert_device_on_token_listener(self):
        self.assert_refused_v4_v5(4, 0x86, "cert-dev", "user-c", KEY)

    def test_disabled_device(self):
        self.assert_refused_v4_v5(5, 0x87, "sensor-off", "user-off", KEY)

    def test_empty_client_id(self):
        self.assert_refused_v4_v5(2, 0x85, "", "user-1", KEY)

    def test_enhanced_auth_method_v5(self):
        packet = connect_packet("sensor-1", "user-1", KEY, version=5,
                                properties=auth_method_property())
        self.assert_refused(packet, 0x8C)

    def test_unsupported_protocol_level(self):
        packet = bytearray(connect_packet("sensor-1", "user-1", KEY, version=4))
        level_index = 1 + len(remaining_length(len(packet) - 2)) + 6
        self.assertEqual(packet[level_index], 4)
        packet[level_index] = 6
        _, reply = self.raw_exchange(bytes(packet))
        self.assertEqual(reply, bytes([0x20, 0x02, 0x00, 0x01]), "3.1.1-format CONNACK 1")
        time.sleep(0.2)
        self.assertEqual(broker_connections(self.broker.port), self.baseline)

    def test_good_device_still_connects_after_refusals(self):
        for key in (OTHER_KEY, "", "x" * 200):
            self.assertEqual(self.raw_connack(connect_packet("sensor-1", "user-1", key)), 4)
        self.assertEqual(self.raw_connack(connect_packet("sensor-1", "user-1", KEY)), 0)


if __name__ == "__main__":
    unittest.main()
