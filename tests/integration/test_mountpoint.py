"""Tenant isolation through the proxy against an unmodified Mosquitto: per-device topic
mountpoints (both directions, shared subscriptions, MQTT 5 topic aliases) and topic ACLs
with their exact refusal codes in 3.1.1 and 5."""
import queue
import socket
import ssl
import unittest

import paho.mqtt.client as paho

from harness import (IntegrationTest, Mosquitto, Proxy, Redis, authctl, connect_packet,
                     mqtt_string, read_packet, remaining_length, subscribe_packet,
                     tls_connect, wait_until)

KEY_A = "0123456789abcdef0123456789abcdef"
KEY_B = "fedcba9876543210fedcba9876543210"
MOUNTPOINT = "/${device.protocol}/${device.tenant}/${device.product}/${device_id}/"
PREFIX_A = "/mqtt/acme/sensors/dev-a/"
PREFIX_B = "/mqtt/globex/sensors/dev-b/"


class MountProxy(Proxy):
    """The harness proxy with |listener_yaml| lines added to the token listener."""

    def __init__(self, workdir, pki, redis, backends, listener_yaml):
        super().__init__(workdir, pki, redis, backends)
        with open(self.config_path) as f:
            text = f.read()
        anchor = "    auth: token\n"
        if anchor not in text:
            raise RuntimeError("harness config changed shape: no token listener auth line")
        text = text.replace(anchor, anchor + "".join(f"    {line}\n" for line in listener_yaml), 1)
        with open(self.config_path, "w") as f:
            f.write(text)


class MountpointTest(IntegrationTest):
    LISTENER_YAML = [f"mountpoint: \"{MOUNTPOINT}\""]

    def setUp(self):
        super().setUp()
        self.redis = self.started(Redis(self.workdir))
        self.broker = self.started(Mosquitto(self.workdir))
        self.proxy = self.started(MountProxy(self.workdir, self.pki, self.redis, [self.broker],
                                             self.LISTENER_YAML))
        for device, user, key, tenant in (("dev-a", "user-a", KEY_A, "acme"),
                                          ("dev-b", "user-b", KEY_B, "globex")):
            authctl(self.redis, "device", "add", device, "--username", user, "--auth", "token",
                    "--key", key, "--label", f"tenant={tenant}", "--label", "product=sensors",
                    "--label", "protocol=mqtt")

    def platform_client(self, protocol=paho.MQTTv311):
        """A client connected straight to Mosquitto, as the platform's backend services are."""
        messages = queue.Queue()
        client = paho.Client(client_id="", protocol=protocol,
                             **({} if protocol == paho.MQTTv5 else {"clean_session": True}))
        subscribed = []
        client.on_message = lambda c, u, m: messages.put(m)
        client.on_subscribe = lambda *a: subscribed.append(True)
        client.connect("127.0.0.1", self.broker.port)
        client.loop_start()
        self.addCleanup(client.loop_stop)
        self.addCleanup(client.disconnect)
        client.messages = messages
        client.subscribed = subscribed
        return client

    def platform_subscribe(self, client, topic):
        client.subscribed.clear()
        client.subscribe(topic, 1)
        self.assertTrue(wait_until(lambda: client.subscribed, 5.0), "no SUBACK from Mosquitto")

    def raw_session(self, device, user, key, version):
        """TLS to the proxy, CONNECT, and the CONNACK checked; returns the socket."""
        sock = tls_connect(self.proxy.token_port, self.tls_context())
        self.addCleanup(sock.close)
        sock.sendall(connect_packet(device, user, key, version=version))
        connack = read_packet(sock)
        self.assertEqual(connack[0], 0x20, connack)
        self.assertEqual(connack[3], 0, connack)
        return sock

    def assert_no_message(self, session, timeout=0.5):
        with self.assertRaises(queue.Empty):
            m = session.next_message(timeout)
            self.fail(f"unexpected message on {m.topic}")


def publish_packet(topic, payload, qos=0, packet_id=1, version=4, properties=b""):
    body = mqtt_string(topic)
    if qos:
        body += packet_id.to_bytes(2, "big")
    if version == 5:
        body += remaining_length(len(properties)) + properties
    body += payload
    return bytes([0x30 | (qos << 1)]) + remaining_length(len(body)) + body


class TenantsAreIsolated(MountpointTest):
    def test_two_tenants_subscribed_to_everything_see_only_their_own(self):
        platform = self.platform_client()
        self.platform_subscribe(platform, "/mqtt/#")
        a = self.paho_client("dev-a", "user-a", KEY_A)
        b = self.paho_client("dev-b", "user-b", KEY_B)
        a.subscribe("#")
        b.subscribe("#")
        a.publish_acked("temp", b"21.5")
        b.publish_acked("temp", b"19.0")

        got_a = a.next_message()
        self.assertEqual((got_a.topic, got_a.payload), ("temp", b"21.5"))
        got_b = b.next_message()
        self.assertEqual((got_b.topic, got_b.payload), ("temp", b"19.0"))
        self.assert_no_message(a)
        self.assert_no_message(b)
        seen = {platform.messages.get(timeout=5).topic for _ in range(2)}
        self.assertEqual(seen, {PREFIX_A + "temp", PREFIX_B + "temp"})

    def test_platform_publication_reaches_the_device_without_prefix(self):
        a = self.paho_client("dev-a", "user-a", KEY_A)
        b = self.paho_client("dev-b", "user-b", KEY_B)
        a.subscribe("inbox")
        b.subscribe("#")
        platform = self.platform_client()
        platform.publish(PREFIX_A + "inbox", b"hello", qos=1).wait_for_publish()
        got = a.next_message()
        self.assertEqual((got.topic, got.payload), ("inbox", b"hello"))
        self.assert_no_message(b)

    def test_device_publication_seen_prefixed_on_the_broker(self):
        platform = self.platform_client()
        self.platform_subscribe(platform, PREFIX_A + "#")
        a = self.paho_client("dev-a", "user-a", KEY_A, protocol=paho.MQTTv5)
        a.publish_acked("temp", b"1")
        self.assertEqual(platform.messages.get(timeout=5).topic, PREFIX_A + "temp")

    def test_shared_subscription_through_the_mountpoint(self):
        a = self.paho_client("dev-a", "user-a", KEY_A, protocol=paho.MQTTv5)
        a.subscribe("$share/workers/jobs/+")
        platform = self.platform_client()
        platform.publish(PREFIX_A + "jobs/1", b"job", qos=1).wait_for_publish()
        got = a.next_message()
        self.assertEqual((got.topic, got.payload), ("jobs/1", b"job"))
        platform.publish(PREFIX_B + "jobs/1", b"other", qos=1).wait_for_publish()
        self.assert_no_message(a)

    def test_v5_topic_alias_maps_to_the_mounted_topic(self):
        platform = self.platform_client(paho.MQTTv5)
        self.platform_subscribe(platform, "/mqtt/#")
        # Mosquitto's default Topic Alias Maximum (10) lets the device set alias 1.
        sock = self.raw_session("dev-a", "user-a", KEY_A, 5)
        alias = bytes([0x23, 0x00, 0x01])
        sock.sendall(publish_packet("alias/t", b"one", qos=1, packet_id=1, version=5,
                                    properties=alias))
        read_packet_id_ack(self, sock, 0x40, 1)
        sock.sendall(publish_packet("", b"two", qos=1, packet_id=2, version=5, properties=alias))
        read_packet_id_ack(self, sock, 0x40, 2)
        got = [platform.messages.get(timeout=5) for _ in range(2)]
        self.assertEqual([(m.topic, m.payload) for m in got],
                         [(PREFIX_A + "alias/t", b"one"), (PREFIX_A + "alias/t", b"two")])

    def test_message_outside_the_mountpoint_never_reaches_the_device(self):
        sock = self.raw_session("dev-a", "user-a", KEY_A, 4)
        sock.sendall(subscribe_packet(1, "#", qos=1))
        self.assertEqual(read_packet(sock), bytes([0x90, 0x03, 0x00, 0x01, 0x01]))
        platform = self.platform_client()
        platform.publish(PREFIX_A + "x", b"mine", qos=1).wait_for_publish()
        first = read_packet(sock)
        self.assertEqual(first[0] & 0xF0, 0x30)
        self.assertIn(mqtt_string("x"), first)
        self.assertNotIn(PREFIX_A.encode(), first)


def read_packet_id_ack(test, sock, first_byte, packet_id, reason=0):
    """Reads an ack and checks its type, id and (5.0) reason; returns the packet."""
    packet = read_packet(sock)
    test.assertEqual(packet[0], first_byte, packet.hex())
    test.assertEqual(int.from_bytes(packet[2:4], "big"), packet_id, packet.hex())
    test.assertEqual(packet[4] if len(packet) > 4 else 0, reason, packet.hex())
    return packet


class TopicAcl(MountpointTest):
    LISTENER_YAML = [
        f"mountpoint: \"{MOUNTPOINT}\"",
        "acl:",
        "  - {deny: all, topic: \"secret/#\"}",
        "  - {allow: subscribe, topic: \"cmd/${device_id}/#\"}",
        "  - {allow: publish, topic: \"data/#\"}",
        "acl_default: deny",
    ]

    def test_v5_denied_publish_gets_0x87_and_allowed_goes_through(self):
        platform = self.platform_client()
        self.platform_subscribe(platform, "/mqtt/#")
        sock = self.raw_session("dev-a", "user-a", KEY_A, 5)
        sock.sendall(publish_packet("secret/x", b"no", qos=1, packet_id=1, version=5))
        read_packet_id_ack(self, sock, 0x40, 1, reason=0x87)
        sock.sendall(publish_packet("other", b"no", qos=2, packet_id=2, version=5))
        read_packet_id_ack(self, sock, 0x50, 2, reason=0x87)
        sock.sendall(publish_packet("secret/qos0", b"no", version=5))
        sock.sendall(publish_packet("data/ok", b"yes", qos=1, packet_id=3, version=5))
        read_packet_id_ack(self, sock, 0x40, 3)
        got = platform.messages.get(timeout=5)
        self.assertEqual((got.topic, got.payload), (PREFIX_A + "data/ok", b"yes"))
        with self.assertRaises(queue.Empty):
            platform.messages.get(timeout=0.5)

    def test_v5_denied_filters_get_0x87_others_granted(self):
        sock = self.raw_session("dev-a", "user-a", KEY_A, 5)
        body = (b"\x00\x07\x00" + mqtt_string("secret/#") + b"\x01" +
                mqtt_string("cmd/dev-a/#") + b"\x01" + mqtt_string("#") + b"\x00")
        sock.sendall(bytes([0x82]) + remaining_length(len(body)) + body)
        suback = read_packet(sock)
        self.assertEqual(suback[0], 0x90)
        self.assertEqual(int.from_bytes(suback[2:4], "big"), 7)
        self.assertEqual(list(suback[-3:]), [0x87, 0x01, 0x87])

    def test_v311_denied_filter_gets_0x80(self):
        sock = self.raw_session("dev-a", "user-a", KEY_A, 4)
        sock.sendall(subscribe_packet(5, "secret/#", qos=1))
        self.assertEqual(read_packet(sock), bytes([0x90, 0x03, 0x00, 0x05, 0x80]))
        sock.sendall(subscribe_packet(6, "cmd/dev-a/#", qos=1))
        self.assertEqual(read_packet(sock), bytes([0x90, 0x03, 0x00, 0x06, 0x01]))

    def test_v311_denied_publish_disconnects(self):
        sock = self.raw_session("dev-a", "user-a", KEY_A, 4)
        sock.sendall(publish_packet("secret/x", b"no", qos=1, packet_id=1))
        sock.settimeout(5)
        try:
            self.assertEqual(sock.recv(1), b"")
        except (ConnectionResetError, ssl.SSLError, socket.timeout) as e:
            if isinstance(e, socket.timeout):
                self.fail("connection not closed after a denied 3.1.1 PUBLISH")

    def test_sys_topics_need_an_allow_rule(self):
        sock = self.raw_session("dev-a", "user-a", KEY_A, 5)
        body = b"\x00\x09\x00" + mqtt_string("$SYS/#") + b"\x00"
        sock.sendall(bytes([0x82]) + remaining_length(len(body)) + body)
        self.assertEqual(read_packet(sock), bytes([0x90, 0x04, 0x00, 0x09, 0x00, 0x87]))


class TopicAclDropV3(MountpointTest):
    LISTENER_YAML = [
        "acl:",
        "  - {deny: publish, topic: \"secret/#\"}",
        "acl_deny_v3: drop",
    ]

    def test_v311_denied_publish_acknowledged_and_dropped(self):
        platform = self.platform_client()
        self.platform_subscribe(platform, "#")
        sock = self.raw_session("dev-a", "user-a", KEY_A, 4)
        sock.sendall(publish_packet("secret/x", b"no", qos=1, packet_id=1))
        self.assertEqual(read_packet(sock), bytes([0x40, 0x02, 0x00, 0x01]))
        sock.sendall(publish_packet("open", b"yes", qos=1, packet_id=2))
        self.assertEqual(read_packet(sock), bytes([0x40, 0x02, 0x00, 0x02]))
        got = platform.messages.get(timeout=5)
        self.assertEqual((got.topic, got.payload), ("open", b"yes"))  # no mountpoint here


if __name__ == "__main__":
    unittest.main()
