"""A small blocking MQTT 3.1.1/5 client over TLS with exact control of the bytes, for the
reliability tests (hostile clients, faults, soak). One instance is one connection, used by
one thread. Packet building and reading come from the integration harness."""
import os
import socket
import ssl
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "integration"))

from harness import (connack_code, connect_packet, mqtt_string, read_packet,  # noqa: E402
                     remaining_length, subscribe_packet, tls_connect)


def publish_packet(topic, payload, qos=0, packet_id=0, version=4):
    body = mqtt_string(topic)
    if qos:
        body += packet_id.to_bytes(2, "big")
    if version == 5:
        body += b"\x00"
    body += payload
    return bytes([0x30 | (qos << 1)]) + remaining_length(len(body)) + body


def puback_packet(packet_id):
    return b"\x40\x02" + packet_id.to_bytes(2, "big")


def publish_fields(packet, version=4):
    """(topic, packet_id or None, payload) of a whole PUBLISH packet."""
    i = 1
    while packet[i] & 0x80:
        i += 1
    i += 1
    qos = (packet[0] >> 1) & 3
    topic_length = int.from_bytes(packet[i:i + 2], "big")
    topic = packet[i + 2:i + 2 + topic_length].decode()
    i += 2 + topic_length
    packet_id = None
    if qos:
        packet_id = int.from_bytes(packet[i:i + 2], "big")
        i += 2
    if version == 5:
        prop_length, shift = 0, 0
        while True:
            b = packet[i]
            i += 1
            prop_length |= (b & 0x7F) << shift
            shift += 7
            if not b & 0x80:
                break
        i += prop_length
    return topic, packet_id, packet[i:]


class MqttError(Exception):
    pass


class Device:
    """A device connection: connect() returns the CONNACK code; the rest raise MqttError or
    OSError/ssl.SSLError on protocol trouble."""

    def __init__(self, port, ctx, client_id, username, key, version=4, timeout=10.0):
        self.port, self.ctx, self.version, self.timeout = port, ctx, version, timeout
        self.client_id, self.username, self.key = client_id, username, key
        self.sock = None
        self.next_id = 1
        self.acked = set()
        self.received = []  # (topic, payload)

    def connect(self):
        self.sock = tls_connect(self.port, self.ctx, timeout=self.timeout)
        self.sock.sendall(connect_packet(self.client_id, self.username, self.key,
                                         version=self.version))
        return connack_code(read_packet(self.sock))

    def subscribe(self, topic, qos=1):
        self.sock.sendall(subscribe_packet(self._packet_id(), topic, qos, self.version))
        while True:
            packet = self._read()
            if packet[0] >> 4 == 9:
                return
            self._handle(packet)

    def publish(self, topic, payload, qos=1):
        packet_id = self._packet_id() if qos else 0
        self.sock.sendall(publish_packet(topic, payload, qos, packet_id, self.version))
        return packet_id

    def pump(self, until, timeout):
        """Handles incoming packets until until() is true; MqttError after |timeout|."""
        deadline = time.monotonic() + timeout
        while not until():
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise MqttError("timed out waiting for traffic")
            self.sock.settimeout(remaining)
            try:
                self._handle(self._read())
            except socket.timeout:
                raise MqttError("timed out waiting for traffic")
        self.sock.settimeout(self.timeout)

    def disconnect(self):
        try:
            self.sock.sendall(b"\xe0\x00" if self.version == 4 else b"\xe0\x01\x00")
        except OSError:
            pass
        self.close()

    def close(self):
        if self.sock is not None:
            try:
                self.sock.close()
            except OSError:
                pass

    def _packet_id(self):
        packet_id = self.next_id
        self.next_id = self.next_id % 65535 + 1
        return packet_id

    def _read(self):
        packet = read_packet(self.sock)
        if not packet:
            raise MqttError("connection closed by the proxy")
        return packet

    def _handle(self, packet):
        kind = packet[0] >> 4
        if kind == 4:  # PUBACK
            self.acked.add(int.from_bytes(packet[2:4], "big"))
        elif kind == 3:
            topic, packet_id, payload = publish_fields(packet, self.version)
            self.received.append((topic, payload))
            if packet_id is not None:
                self.sock.sendall(puback_packet(packet_id))
        elif kind == 14:
            raise MqttError("DISCONNECT from the proxy")


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def cpu_seconds(pid):
    """utime + stime of |pid| in seconds."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def open_fds(pid):
    return len(os.listdir(f"/proc/{pid}/fd"))


def is_sanitized(pid):
    """True when |pid| runs with AddressSanitizer (libasan mapped): its allocator keeps freed
    memory in quarantine and never returns it, so RSS bounds say nothing there."""
    with open(f"/proc/{pid}/maps") as f:
        return any("libasan" in line for line in f)
