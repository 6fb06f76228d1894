"""Issue 7 on loopback: backend pools (round_robin with a broker killed, client_id_hash
stickiness), inbound PROXY protocol v1/v2 from trusted load balancers (logged and banned
address, untrusted peer and malformed header closed), and outbound PROXY protocol v1/v2 as
a broker receives it (parsed here from HAProxy's proxy-protocol.txt)."""
import ipaddress
import os
import queue
import re
import socket
import struct
import subprocess
import time
import unittest

from harness import (LoopbackServer, Mosquitto, Redis, broker_connections, connack_code, connect_packet, free_port,
                     read_exactly, read_packet, wait_until)
from mtls_util import MtlsProxy, MtlsTest, authctl, tls_client_context
from ops_util import http_request, parse_exposition, value as metric_value

V311, V5 = 4, 5
V2_SIGNATURE = b"\r\n\r\n\x00\r\nQUIT\n"
PP2_TYPE_SSL = 0x20
PP2_SUBTYPE_SSL_VERSION = 0x21
PP2_SUBTYPE_SSL_CN = 0x22
PP2_CLIENT_SSL, PP2_CLIENT_CERT_CONN = 0x01, 0x02


class ScaleoutProxy(MtlsProxy):
    """MtlsProxy plus `proxy_protocol`/`trusted_proxies` on every listener and
    `balance`/`proxy_protocol` under `backend:`."""

    def __init__(self, workdir, pki, redis, backends, listener_proxy_protocol=None,
                 trusted_proxies=(), balance=None, backend_proxy_protocol=None,
                 health_check=None, **kwargs):
        super().__init__(workdir, pki, redis, backends, **kwargs)
        with open(self.config_path) as f:
            lines = f.read().split("\n")
        out = []
        for line in lines:
            out.append(line)
            if line.startswith("    auth: ") and listener_proxy_protocol:
                out.append(f"    proxy_protocol: {listener_proxy_protocol}")
                out.append("    trusted_proxies: [" +
                           ", ".join(f"\"{c}\"" for c in trusted_proxies) + "]")
            elif line.startswith("  servers: ["):
                if balance:
                    out.append(f"  balance: {balance}")
                if backend_proxy_protocol:
                    out.append(f"  proxy_protocol: {backend_proxy_protocol}")
                if health_check:
                    out.append(f"  health_check: {health_check}")
        text = "\n".join(out)
        for wanted, needed in ((f"    proxy_protocol: {listener_proxy_protocol}",
                                listener_proxy_protocol),
                               (f"  balance: {balance}", balance),
                               (f"  proxy_protocol: {backend_proxy_protocol}",
                                backend_proxy_protocol),
                               (f"  health_check: {health_check}", health_check)):
            if needed and text.count(wanted) < 1:
                raise RuntimeError(f"ScaleoutProxy could not place '{wanted}' in the config")
        with open(self.config_path, "w") as f:
            f.write(text)


# ---- PROXY protocol, written and read from the spec ----------------------------------------

def v1_header(src, dst):
    """A v1 line for IPv4 (host, port) pairs."""
    return f"PROXY TCP4 {src[0]} {dst[0]} {src[1]} {dst[1]}\r\n".encode()


def v2_header(src, dst):
    """A v2 PROXY-command header, TCP over IPv4, no TLVs."""
    addresses = (socket.inet_aton(src[0]) + socket.inet_aton(dst[0]) +
                 struct.pack("!HH", src[1], dst[1]))
    return V2_SIGNATURE + bytes([0x21, 0x11]) + struct.pack("!H", len(addresses)) + addresses


def parse_v1(line):
    """{'src': (ip, port), 'dst': (ip, port)} of a "PROXY TCP4|TCP6 ..." line (CRLF included)."""
    assert line.endswith(b"\r\n") and len(line) <= 107, line
    fields = line[:-2].decode("ascii").split(" ")
    assert fields[0] == "PROXY" and fields[1] in ("TCP4", "TCP6") and len(fields) == 6, line
    return {"src": (fields[2], int(fields[4])), "dst": (fields[3], int(fields[5]))}


def parse_tlvs(data):
    tlvs = []
    i = 0
    while i < len(data):
        assert i + 3 <= len(data), "truncated TLV"
        kind, length = data[i], struct.unpack("!H", data[i + 1:i + 3])[0]
        assert i + 3 + length <= len(data), "TLV runs past the header"
        tlvs.append((kind, data[i + 3:i + 3 + length]))
        i += 3 + length
    return tlvs


def parse_v2(header):
    """Addresses and the PP2_TYPE_SSL TLV of a whole v2 header (16 bytes + its length)."""
    assert header[:12] == V2_SIGNATURE, header[:12]
    assert header[12] == 0x21, f"version/command byte {header[12]:#x}"  # v2, PROXY
    family = header[13]
    length = struct.unpack("!H", header[14:16])[0]
    body = header[16:]
    assert len(body) == length
    if family == 0x11:  # TCP over IPv4
        src = (str(ipaddress.IPv4Address(body[0:4])), struct.unpack("!H", body[8:10])[0])
        dst = (str(ipaddress.IPv4Address(body[4:8])), struct.unpack("!H", body[10:12])[0])
        rest = body[12:]
    elif family == 0x21:  # TCP over IPv6
        src = (str(ipaddress.IPv6Address(body[0:16])), struct.unpack("!H", body[32:34])[0])
        dst = (str(ipaddress.IPv6Address(body[16:32])), struct.unpack("!H", body[34:36])[0])
        rest = body[36:]
    else:
        raise AssertionError(f"unexpected family/transport byte {family:#x}")
    result = {"src": src, "dst": dst, "ssl": None}
    for kind, value in parse_tlvs(rest):
        if kind == PP2_TYPE_SSL:
            client, verify = value[0], struct.unpack("!I", value[1:5])[0]
            subs = dict(parse_tlvs(value[5:]))
            result["ssl"] = {"client": client, "verify": verify,
                             "version": subs.get(PP2_SUBTYPE_SSL_VERSION, b"").decode(),
                             "cn": subs.get(PP2_SUBTYPE_SSL_CN, b"").decode()}
    return result


class ProxyProtocolBroker(LoopbackServer):
    """A raw TCP "broker": reads a PROXY header of |version| then one MQTT packet, answers
    CONNACK 20 02 00 00, and hands (parsed header, packet) to the test. With |tls_context|
    (a server-side ssl.SSLContext) the header is read in clear and the rest is TLS, as
    backend.tls with backend.proxy_protocol sends it; the test then gets
    (parsed header, packet, TLS version)."""

    def __init__(self, version, tls_context=None):
        super().__init__()
        self.version = version
        self._tls_context = tls_context
        self.received = queue.Queue()
        self.name = f"proxy-protocol-{version}-broker"

    def _read_header(self, conn):
        if self.version == "v1":
            line = b""
            while not line.endswith(b"\r\n") and len(line) < 107:
                b = conn.recv(1)
                if not b:
                    break
                line += b
            return parse_v1(line)
        fixed = read_exactly(conn, 16)
        return parse_v2(fixed + read_exactly(conn, struct.unpack("!H", fixed[14:16])[0]))

    def _serve(self, conn):
        conn.settimeout(10)
        try:
            header = self._read_header(conn)
            if self._tls_context:
                conn = self._tls_context.wrap_socket(conn, server_side=True)
            with conn:
                packet = read_packet(conn)
                conn.sendall(b"\x20\x02\x00\x00")
                self.received.put((header, packet, conn.version()) if self._tls_context
                                  else (header, packet))
                while conn.recv(4096):
                    pass
        except (AssertionError, OSError, ValueError, IndexError) as e:
            self.received.put((e, b"", None) if self._tls_context else (e, b""))
            conn.close()

    def next(self, timeout=5.0):
        try:
            return self.received.get(timeout=timeout)
        except queue.Empty:
            raise AssertionError(f"the broker got nothing within {timeout}s") from None


# ---- tests ---------------------------------------------------------------------------------

class ScaleoutTest(MtlsTest):
    def start_scaleout(self, backends, **proxy_kwargs):
        self.redis = self.started(Redis(self.workdir))
        self.backends = [self.started(b) for b in backends]
        self.proxy = self.started(ScaleoutProxy(self.workdir, self.pki, self.redis,
                                                self.backends, **proxy_kwargs))
        self.devices_dir = os.path.join(self.workdir, "devices")

    def add_token_devices(self, ids, key="k"):
        for device in ids:
            authctl(self.redis, "device", "add", device, "--username", "acme", "--key", key)

    def open_session(self, device, key="k"):
        """A token-listener connection left open; asserts CONNACK 0."""
        session = self.raw(port=self.proxy.token_port)
        self.assertEqual(session.connect(device, "acme", key, V311), 0, device)
        return session

    def counts(self):
        return [broker_connections(b.port) for b in self.backends]

    def wait_counts(self, expected, timeout=5.0):
        ok = wait_until(lambda: self.counts() == expected, timeout)
        self.assertTrue(ok, f"broker connections {self.counts()}, expected {expected}")


class BackendPoolTest(ScaleoutTest):
    def test_round_robin_spreads_and_a_killed_broker_refuses_no_one(self):
        self.start_scaleout([Mosquitto(self.workdir), Mosquitto(self.workdir)],
                            balance="round_robin")
        devices = [f"rr-{i}" for i in range(12)]
        self.add_token_devices(devices)
        first = [self.open_session(d) for d in devices[:6]]
        self.wait_counts([3, 3])
        # One broker dies: its clients are dropped, every new client lands on the other.
        survivor, dead = self.backends
        dead.stop()
        self.assertTrue(wait_until(lambda: self.counts() == [3, 0]), self.counts())
        for session in first:
            session.close()
        self.wait_counts([0, 0])
        later = [self.open_session(d) for d in devices[6:]]
        self.wait_counts([6, 0])
        self.assertEqual(len(later), 6)

    def test_health_check_keeps_devices_off_a_dead_broker_until_it_is_back(self):
        metrics_port = free_port()
        self.start_scaleout([Mosquitto(self.workdir), Mosquitto(self.workdir)],
                            balance="round_robin", workers=2,
                            health_check="{interval: 200ms, timeout: 150ms}",
                            extra_yaml=f"metrics: {{bind: \"127.0.0.1:{metrics_port}\"}}\n")
        survivor, dead = self.backends

        def failed_connects(backend):
            _, body = http_request(metrics_port, "/metrics")
            return metric_value(parse_exposition(body), "mqtt_auth_proxy_backend_connect_failures_total",
                         server=f"127.0.0.1:{backend.port}")

        devices = [f"hc-{i}" for i in range(16)]
        self.add_token_devices(devices)
        dead.stop()
        time.sleep(0.8)  # a few probe rounds
        down = [self.open_session(d) for d in devices[:8]]
        self.wait_counts([8, 0])
        # Without the check each worker would have found out with a failed connect of its own.
        self.assertEqual(failed_connects(dead), 0)
        for session in down:
            session.close()
        self.wait_counts([0, 0])

        dead.start()  # same port
        time.sleep(0.8)
        back = [self.open_session(d) for d in devices[8:]]
        # Round robin again: both brokers get devices.
        self.assertTrue(wait_until(lambda: sum(self.counts()) == 8 and min(self.counts()) >= 2),
                        self.counts())
        self.assertEqual(failed_connects(dead), 0)
        for session in back:
            session.close()

    def test_client_id_hash_keeps_a_device_on_one_backend(self):
        self.start_scaleout([Mosquitto(self.workdir), Mosquitto(self.workdir)],
                            balance="client_id_hash")
        devices = [f"hash-{i}" for i in range(20)]
        self.add_token_devices(devices)
        landed = []
        for _ in range(5):
            session = self.open_session("hash-0")
            self.assertTrue(wait_until(lambda: sum(self.counts()) == 1), self.counts())
            landed.append(self.counts().index(1))
            session.close()
            self.wait_counts([0, 0])
        self.assertEqual(len(set(landed)), 1, f"hash-0 landed on backends {landed}")
        sessions = [self.open_session(d) for d in devices]
        self.assertTrue(wait_until(lambda: sum(self.counts()) == 20), self.counts())
        counts = self.counts()
        self.assertGreater(counts[0], 0, counts)
        self.assertGreater(counts[1], 0, counts)
        self.assertEqual(len(sessions), 20)


class InboundProxyProtocolTest(ScaleoutTest):
    def behind_lb(self, header_source, version="v2", cert=None, port=None):
        """A connection that first writes a PROXY header naming |header_source| as the
        client, then speaks TLS: (RawSession-like socket, connect function)."""
        port = port or self.proxy.token_port
        raw = socket.create_connection(("127.0.0.1", port), timeout=5)
        self.addCleanup(raw.close)
        dst = ("127.0.0.1", port)
        raw.sendall(v2_header(header_source, dst) if version == "v2"
                    else v1_header(header_source, dst))
        return raw

    def code_behind_lb(self, header_source, device, key, version=V311, pp="v2"):
        """CONNACK code through a PROXY header (None: closed/TLS failed)."""
        raw = self.behind_lb(header_source, pp)
        try:
            tls = tls_client_context(self.pki.ca).wrap_socket(raw, server_hostname="localhost")
            tls.sendall(connect_packet(device, "acme", key, version=version))
            code = connack_code(read_packet(tls))
            tls.close()
            return code
        except (OSError, ValueError):
            return None

    def test_v2_from_trusted_sets_logged_and_banned_address(self):
        self.start_scaleout([Mosquitto(self.workdir)], listener_proxy_protocol="v2",
                            trusted_proxies=["127.0.0.1/32"])
        self.add_token_devices(["victim", "good"], key="right")
        lb_client = ("203.0.113.7", 4242)
        self.assertEqual(self.code_behind_lb(lb_client, "good", "right"), 0)
        self.assertTrue(self.proxy_log_has("peer=203.0.113.7:4242"), self.proxy.log()[-2000:])
        for attempt in range(20):
            self.assertEqual(self.code_behind_lb(("203.0.113.7", 5000 + attempt), "victim",
                                                 f"wrong-{attempt}"), 4, f"wrong #{attempt + 1}")
        # The header's address is banned (the right key and another device do not help),
        # not the balancer's: another header address gets in through the same balancer.
        self.assertEqual(self.code_behind_lb(("203.0.113.7", 6000), "victim", "right", V311), 5)
        self.assertEqual(self.code_behind_lb(("203.0.113.7", 6001), "good", "right", V311), 5)
        self.assertEqual(self.code_behind_lb(("203.0.113.7", 6002), "good", "right", V5), 0x8A)
        self.assertEqual(self.code_behind_lb(("203.0.113.8", 6003), "good", "right", V311), 0)
        self.assertEqual(self.code_behind_lb(("203.0.113.8", 6004), "good", "right", V5), 0)
        refused = [line for line in self.proxy.log().splitlines()
                   if "connect_refused" in line and "peer=203.0.113.7:6001" in line]
        self.assertEqual(len(refused), 1, self.proxy.log()[-3000:])
        self.assertIn("reason=banned", refused[0])

    def test_v2_malformed_header_is_closed(self):
        self.start_scaleout([Mosquitto(self.workdir)], listener_proxy_protocol="v2",
                            trusted_proxies=["127.0.0.1/32"])
        bad = bytearray(v2_header(("203.0.113.7", 4242), ("127.0.0.1", self.proxy.token_port)))
        bad[12] = 0x31  # version 3
        for header in (bytes(bad), b"GET / HTTP/1.1\r\nHost: x\r\n\r\n",
                       v1_header(("203.0.113.7", 4242), ("127.0.0.1", 1))):
            with self.subTest(header=header[:16]):
                with socket.create_connection(("127.0.0.1", self.proxy.token_port),
                                              timeout=5) as raw:
                    raw.sendall(header)
                    self.assertTrue(closed(raw))
        self.assertTrue(self.proxy_log_has("proxy_header_invalid"))

    def test_v1_from_trusted_sets_logged_address(self):
        self.start_scaleout([Mosquitto(self.workdir)], listener_proxy_protocol="v1",
                            trusted_proxies=["127.0.0.0/8"])
        self.add_token_devices(["meter-1"])
        self.assertEqual(self.code_behind_lb(("198.51.100.20", 31337), "meter-1", "k",
                                             pp="v1"), 0)
        self.assertTrue(self.proxy_log_has("peer=198.51.100.20:31337"), self.proxy.log()[-2000:])
        with socket.create_connection(("127.0.0.1", self.proxy.token_port), timeout=5) as raw:
            raw.sendall(b"PROXY TCP4 198.51.100.20 127.0.0.1 99999 8883\r\n")
            self.assertTrue(closed(raw))

    def test_untrusted_peer_is_closed_without_tls(self):
        self.start_scaleout([Mosquitto(self.workdir)], listener_proxy_protocol="v2",
                            trusted_proxies=["10.0.0.0/8"])
        self.add_token_devices(["meter-1"])
        with socket.create_connection(("127.0.0.1", self.proxy.token_port), timeout=5) as raw:
            # The header and the start of a ClientHello: closed at accept, not one byte back.
            raw.sendall(v2_header(("203.0.113.7", 4242), ("127.0.0.1", self.proxy.token_port))
                        + b"\x16\x03\x01\x00\x00")
            self.assertTrue(closed(raw))
        self.assertIsNone(self.code_behind_lb(("203.0.113.7", 4243), "meter-1", "k"))
        self.assertTrue(self.proxy_log_has("untrusted_proxy_protocol_peer"))


def certificate_cn(cert_file):
    """The subject CN of a PEM certificate, as the openssl tool prints it."""
    out = subprocess.run(["openssl", "x509", "-in", cert_file, "-noout", "-subject",
                          "-nameopt", "RFC2253"], check=True, capture_output=True, text=True)
    match = re.search(r"CN=([^,\n]+)", out.stdout)
    assert match, out.stdout
    return match.group(1)


def closed(raw, timeout=5.0):
    """True if the peer closes without sending one byte."""
    raw.settimeout(timeout)
    try:
        return raw.recv(1) == b""
    except ConnectionResetError:
        return True
    except socket.timeout:
        return False


class OutboundProxyProtocolTest(ScaleoutTest):
    def check_token(self, version):
        broker = ProxyProtocolBroker(version)
        self.start_scaleout([broker], backend_proxy_protocol=version)
        self.add_token_devices(["meter-1"])
        session = self.raw(port=self.proxy.token_port)
        self.assertEqual(session.connect("meter-1", "acme", "k", V311), 0)
        client = session.sock.getsockname()
        header, packet = broker.next()
        self.assertIsInstance(header, dict, header)
        self.assertEqual(header["src"], (client[0], client[1]))
        self.assertEqual(header["dst"], ("127.0.0.1", self.proxy.token_port))
        # The CONNECT follows whole: the device's, with the default rewrite applied
        # (username = device ID, password dropped).
        self.assertEqual(packet, connect_packet("meter-1", "meter-1", None, version=V311))
        return header

    def test_v1_header_carries_client_and_listener(self):
        self.check_token("v1")

    def test_v2_header_on_token_listener(self):
        header = self.check_token("v2")
        self.assertIsNotNone(header["ssl"])
        self.assertIn(header["ssl"]["version"], ("TLSv1.3", "TLSv1.2"))
        self.assertEqual(header["ssl"]["cn"], "")

    def test_v2_header_on_cert_listener_carries_tls_version_and_cn(self):
        broker = ProxyProtocolBroker("v2")
        self.start_scaleout([broker], backend_proxy_protocol="v2")
        authctl(self.redis, "device", "add", "cam-1", "--username", "acme", "--auth", "cert")
        _, cert, key = self.new_cert("cam-1", devices=["cam-1"])
        session = self.raw(cert, key, port=self.proxy.cert_port)
        self.assertEqual(session.connect("cam-1", "acme", None, V5), 0)
        client = session.sock.getsockname()
        header, packet = broker.next()
        self.assertIsInstance(header, dict, header)
        self.assertEqual(header["src"], (client[0], client[1]))
        self.assertEqual(header["dst"], ("127.0.0.1", self.proxy.cert_port))
        ssl_tlv = header["ssl"]
        self.assertIsNotNone(ssl_tlv)
        self.assertEqual(ssl_tlv["version"], session.sock.version())
        self.assertIn(ssl_tlv["version"], ("TLSv1.3", "TLSv1.2"))
        self.assertEqual(ssl_tlv["cn"], certificate_cn(cert))
        self.assertEqual(ssl_tlv["client"] & (PP2_CLIENT_SSL | PP2_CLIENT_CERT_CONN),
                         PP2_CLIENT_SSL | PP2_CLIENT_CERT_CONN)
        self.assertEqual(ssl_tlv["verify"], 0)
        self.assertEqual(packet, connect_packet("cam-1", "cam-1", None, version=V5))


if __name__ == "__main__":
    unittest.main()
