"""Integration-test harness: real redis-server, mosquitto and mqtt-auth-proxy processes on
free loopback ports, a PKI made with mqtt-authctl, and small MQTT client helpers.

Every process is started by the test that needs it and stopped by a cleanup; nothing is
shared between test files, so ctest may run them in parallel.
"""
import os
import queue
import shutil
import socket
import ssl
import subprocess
import tempfile
import threading
import time
import types
import unittest

import paho.mqtt.client as paho

BIN_DIR = os.environ.get("MAP_BIN_DIR") or os.path.join(
    os.path.dirname(__file__), "..", "..", "build", "bin")
PROXY_BIN = os.path.join(BIN_DIR, "mqtt-auth-proxy")
AUTHCTL_BIN = os.path.join(BIN_DIR, "mqtt-authctl")


# Sockets holding the ports handed out by free_port, kept until this test process exits.
_port_reservations = []


def free_port():
    """A loopback port for a server this process will start. The port stays bound (not
    listening, SO_REUSEADDR + SO_REUSEPORT) so the kernel hands it to no one else, while
    redis-server, mosquitto (SO_REUSEADDR) and the proxy (SO_REUSEPORT) can still listen on
    it. Without this, test files run in parallel by ctest could pick the same port, and two
    proxies would silently share it through SO_REUSEPORT."""
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    s.bind(("127.0.0.1", 0))
    _port_reservations.append(s)
    return s.getsockname()[1]


def wait_port(port, host="127.0.0.1", timeout=10.0, proc=None):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"process exited with {proc.returncode} before port {port} opened")
        try:
            with socket.create_connection((host, port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.05)
    raise TimeoutError(f"port {port} did not open")


def wait_until(predicate, timeout=5.0, interval=0.05):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(interval)
    return predicate()


def broker_connections(port):
    """Established loopback TCP connections whose destination is |port| (one per client of
    the broker listening there)."""
    out = subprocess.run(["ss", "-tnH", "state", "established", f"( dport = :{port} )"],
                         check=True, capture_output=True, text=True)
    return len([line for line in out.stdout.splitlines() if line.strip()])


def closed_port():
    """A stand-in backend: a loopback port nothing listens on."""
    return types.SimpleNamespace(port=free_port())


class LoopbackServer:
    """A test peer listening on a free loopback port: start() runs the accept loop in a
    thread, and each accepted connection goes to _accepted (by default: _serve(conn) on a
    thread of its own). Has the start/stop/log of a harness process."""

    def __init__(self):
        self._server = socket.create_server(("127.0.0.1", 0))
        # accept() polls, so stop() can join the thread before closing the socket: closing
        # under a thread about to accept would let it accept on whatever socket reuses the fd.
        self._server.settimeout(0.1)
        self.port = self._server.getsockname()[1]
        self._stopping = threading.Event()
        self._accept_thread = threading.Thread(target=self._accept_loop, daemon=True)

    def _accept_loop(self):
        while not self._stopping.is_set():
            try:
                conn, _ = self._server.accept()
            except socket.timeout:
                continue
            except OSError:
                return
            self._accepted(conn)

    def _accepted(self, conn):
        threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def start(self):
        if not self._accept_thread.is_alive():
            self._accept_thread.start()
        return self

    def stop(self):
        self._stopping.set()
        if self._accept_thread.is_alive():
            self._accept_thread.join()
        self._server.close()

    def log(self):
        return ""


class RecordingBroker(LoopbackServer):
    """A fake MQTT broker on loopback: records each connection's bytes, answers every CONNECT
    with CONNACK 0 (in the CONNECT's protocol version), and ignores everything else. Shows
    exactly what the proxy forwards. Accepts from construction on."""

    name = "recording-broker"

    def __init__(self):
        super().__init__()
        self.connections = queue.Queue()  # one bytearray per accepted connection, growing
        self.start()

    def _accepted(self, conn):
        # Queued here, in accept order, not by the serving thread.
        received = bytearray()
        self.connections.put(received)
        threading.Thread(target=self._serve, args=(conn, received), daemon=True).start()

    def _serve(self, conn, received):
        with conn:
            conn.settimeout(10)
            try:
                first = read_packet(conn)
                received += first
                if first[:1] == b"\x10":
                    version = connect_protocol_level(first)
                    conn.sendall(b"\x20\x03\x00\x00\x00" if version == 5 else b"\x20\x02\x00\x00")
                while chunk := conn.recv(4096):
                    received += chunk
            except OSError:
                pass

    def next_connection(self, timeout=5.0):
        try:
            return self.connections.get(timeout=timeout)
        except queue.Empty:
            raise AssertionError(f"the broker got no connection within {timeout}s") from None


class Process:
    """A child process whose output goes to a log file in the test's folder."""

    def __init__(self, name, argv, workdir):
        self.name = name
        self.argv = argv
        self.log_path = os.path.join(workdir, name + ".log")
        self.proc = None

    def start(self):
        log = open(self.log_path, "ab")
        self.proc = subprocess.Popen(self.argv, stdout=log, stderr=subprocess.STDOUT,
                                     stdin=subprocess.DEVNULL)
        log.close()
        return self

    def stop(self, sig=None):
        if self.proc and self.proc.poll() is None:
            if sig is None:
                self.proc.terminate()
            else:
                self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        return self.proc.returncode if self.proc else None

    def log(self):
        try:
            with open(self.log_path, "r", errors="replace") as f:
                return f.read()
        except FileNotFoundError:
            return ""


class Redis(Process):
    def __init__(self, workdir, port=None):
        self.port = port or free_port()
        super().__init__("redis", ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1",
                                   "--save", "", "--appendonly", "no"], workdir)

    @property
    def url(self):
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self):
        super().start()
        wait_port(self.port, proc=self.proc)
        return self

    def cli(self, *args):
        out = subprocess.run(["redis-cli", "-p", str(self.port), *args], check=True,
                             capture_output=True, text=True)
        return out.stdout.strip()


class Mosquitto(Process):
    """A Mosquitto broker on loopback. With |password_file| only those users get in."""

    def __init__(self, workdir, password_file=None, port=None):
        self.port = port or free_port()
        conf = os.path.join(workdir, f"mosquitto-{self.port}.conf")
        with open(conf, "w") as f:
            if os.geteuid() == 0:
                f.write("user root\n")  # else it drops to "mosquitto", who cannot read workdir
            f.write(f"listener {self.port} 127.0.0.1\n")
            f.write("persistence false\n")
            if password_file:
                f.write("allow_anonymous false\n")
                f.write(f"password_file {password_file}\n")
            else:
                f.write("allow_anonymous true\n")
        super().__init__(f"mosquitto-{self.port}", ["mosquitto", "-c", conf], workdir)

    def start(self):
        super().start()
        wait_port(self.port, proc=self.proc)
        return self


def authctl(redis, *args, check=True):
    out = subprocess.run([AUTHCTL_BIN, "--redis", redis.url, *args], capture_output=True, text=True)
    if check and out.returncode != 0:
        raise RuntimeError(f"mqtt-authctl {' '.join(args)} failed ({out.returncode}): "
                           f"{out.stdout}{out.stderr}")
    return out


class Pki:
    """A CA and a server certificate for 127.0.0.1/localhost, made with mqtt-authctl."""

    def __init__(self, workdir):
        self.dir = os.path.join(workdir, "pki")
        os.makedirs(self.dir, exist_ok=True)
        run = lambda *a: subprocess.run([AUTHCTL_BIN, *a], check=True, capture_output=True, text=True)
        run("ca", "init", "--out", self.dir, "--cn", "test-ca")
        run("server-cert", "--ca", self.dir, "--cn", "localhost", "--san", "localhost",
            "--san", "127.0.0.1", "--out", self.dir)
        self.ca = os.path.join(self.dir, "root_ca.crt")
        self.server_cert = os.path.join(self.dir, "server.crt")
        self.server_key = os.path.join(self.dir, "server.key")


class Proxy(Process):
    """mqtt-auth-proxy with a generated config: a token listener and a cert listener."""

    def __init__(self, workdir, pki, redis, backends, extra_yaml="", rewrite=None, workers=1,
                 limits=None):
        self.token_port = free_port()
        self.cert_port = free_port()
        self.config_path = os.path.join(workdir, "proxy.yaml")
        rewrite = rewrite or {}
        limits = limits or {}
        lines = [
            f"workers: {workers}",
            "listeners:",
            "  - name: token",
            f"    bind: \"127.0.0.1:{self.token_port}\"",
            "    auth: token",
            f"    tls: {{cert: {pki.server_cert}, key: {pki.server_key}}}",
            "  - name: cert",
            f"    bind: \"127.0.0.1:{self.cert_port}\"",
            "    auth: cert",
            f"    tls: {{cert: {pki.server_cert}, key: {pki.server_key}, client_ca: {pki.ca}}}",
            "backend:",
            "  servers: [" + ", ".join(f"\"127.0.0.1:{b.port}\"" for b in backends) + "]",
            "  connect_timeout: 1s",
        ]
        if rewrite:
            lines.append("  rewrite:")
            for k, v in rewrite.items():
                lines.append(f"    {k}: \"{v}\"")
        lines += [
            "redis:",
            f"  url: \"{redis.url}\"",
            "  timeout: 1s",
            "limits:",
            f"  connect_timeout: {limits.get('connect_timeout', '10s')}",
            f"  max_connect_packet: {limits.get('max_connect_packet', 65536)}",
            "log: {level: debug, format: text}",
        ]
        if "shutdown_grace" not in extra_yaml:
            # Sessions still open when a test stops the proxy must not hold it for the
            # default 30 s drain (Process.stop would SIGKILL it and lose the log's end).
            lines.append("shutdown_grace: 1s")
        with open(self.config_path, "w") as f:
            f.write("\n".join(lines) + "\n" + extra_yaml)
        super().__init__("proxy", [PROXY_BIN, "--config", self.config_path], workdir)

    def start(self):
        super().start()
        wait_port(self.token_port, proc=self.proc)
        wait_port(self.cert_port, proc=self.proc)
        return self


class IntegrationTest(unittest.TestCase):
    """Base class: a temp folder, a PKI, and cleanup of every started process."""

    def setUp(self):
        self.workdir = tempfile.mkdtemp(prefix="map-it-")
        self.processes = []
        # Registered first so it runs last: after the sockets and clients closed by later
        # cleanups, and also when setUp itself fails.
        self.addCleanup(self._stop_processes)
        self.pki = Pki(self.workdir)

    def _stop_processes(self):
        for p in reversed(self.processes):
            p.stop()
        if self.has_failed() or os.environ.get("MAP_KEEP_LOGS"):
            for p in self.processes:
                print(f"---- {p.name} log ----\n{p.log()[-4000:]}")
        shutil.rmtree(self.workdir, ignore_errors=True)

    def has_failed(self):
        """True once setUp, the test or one of its subtests has failed or raised. (Each
        cleanup and tearDown runs with _outcome.success reset, so the result is asked.)"""
        result = getattr(getattr(self, "_outcome", None), "result", None)
        if result is None:
            return False
        return any(test is self or getattr(test, "test_case", None) is self
                   for test, _ in result.errors + result.failures)

    def tls_context(self, certfile=None, keyfile=None):
        ctx = ssl.create_default_context(cafile=self.pki.ca)
        ctx.check_hostname = False
        if certfile:
            ctx.load_cert_chain(certfile, keyfile)
        return ctx

    def started(self, process):
        self.processes.append(process)
        return process.start()

    def start_stack(self, rewrite=None, limits=None, password_file=None, backend_up=True,
                    broker=None):
        """Starts self.redis, self.broker (None when |backend_up| is false: the proxy's
        backend is then a closed port; |broker| replaces Mosquitto, e.g. a RecordingBroker)
        and self.proxy."""
        self.redis = self.started(Redis(self.workdir))
        if broker is not None:
            self.broker = self.started(broker)
            backend = broker
        elif backend_up:
            self.broker = self.started(Mosquitto(self.workdir, password_file))
            backend = self.broker
        else:
            self.broker = None
            backend = closed_port()
        self.backend_port = backend.port
        self.proxy = self.started(Proxy(self.workdir, self.pki, self.redis, [backend],
                                        rewrite=rewrite, limits=limits))

    def add_device(self, device_id, username, key=None, auth="token", enabled=True):
        args = ["device", "add", device_id, "--username", username, "--auth", auth]
        if key is not None:
            args += ["--key", key]
        authctl(self.redis, *args)
        if not enabled:
            authctl(self.redis, "device", "disable", device_id)

    def raw_exchange(self, data, port=None, chunks=None):
        """Opens TLS to the token listener (or |port|), sends |data| in one write (or each of
        |chunks| in its own write), and returns (socket, first packet read or b"")."""
        sock = tls_connect(port or self.proxy.token_port, self.tls_context())
        self.addCleanup(sock.close)
        for chunk in (chunks if chunks is not None else [data]):
            sock.sendall(chunk)
        try:
            return sock, read_packet(sock)
        except (ConnectionResetError, ssl.SSLError, BrokenPipeError):
            return sock, b""

    def raw_connack(self, data, port=None):
        """The CONNACK return/reason code answered to |data|, or None if closed without one.
        The connection is closed once the answer is read."""
        sock, reply = self.raw_exchange(data, port)
        sock.close()
        return connack_code(reply)

    def paho_client(self, client_id, username, password, protocol=paho.MQTTv311, port=None,
                    wait=True):
        """A paho client over TLS (CA-verified, hostname check off) with its network loop
        running; returns a PahoSession. With |wait| it waits for the CONNACK."""
        session = PahoSession(client_id, username, password, protocol, self.pki.ca)
        self.addCleanup(session.close)
        session.connect(port or self.proxy.token_port)
        if wait:
            session.wait_connack()
        return session


# ---- raw MQTT over TLS, for exact bytes ---------------------------------------------------

def mqtt_string(s):
    b = s.encode() if isinstance(s, str) else s
    return len(b).to_bytes(2, "big") + b


def remaining_length(n):
    out = bytearray()
    while True:
        byte = n % 128
        n //= 128
        if n:
            byte |= 0x80
        out.append(byte)
        if not n:
            return bytes(out)


def connect_packet(client_id, username=None, password=None, version=4, keep_alive=60,
                   clean=True, properties=b"", will=None):
    """A CONNECT packet. |will| is (topic, payload, qos, retain[, will_properties])."""
    name = b"MQIsdp" if version == 3 else b"MQTT"
    flags = (0x02 if clean else 0) | (0x80 if username is not None else 0) | \
            (0x40 if password is not None else 0)
    if will is not None:
        flags |= 0x04 | (will[2] << 3) | (0x20 if will[3] else 0)
    var = mqtt_string(name) + bytes([version, flags]) + keep_alive.to_bytes(2, "big")
    if version == 5:
        var += remaining_length(len(properties)) + properties
    payload = mqtt_string(client_id)
    if will is not None:
        if version == 5:
            will_properties = will[4] if len(will) > 4 else b""
            payload += remaining_length(len(will_properties)) + will_properties
        payload += mqtt_string(will[0]) + mqtt_string(will[1])
    if username is not None:
        payload += mqtt_string(username)
    if password is not None:
        payload += mqtt_string(password)
    body = var + payload
    return bytes([0x10]) + remaining_length(len(body)) + body


def subscribe_packet(packet_id, topic, qos=0, version=4):
    body = packet_id.to_bytes(2, "big")
    if version == 5:
        body += b"\x00"
    body += mqtt_string(topic) + bytes([qos])
    return bytes([0x82]) + remaining_length(len(body)) + body


def tls_connect(port, ctx, timeout=5.0):
    raw = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    return ctx.wrap_socket(raw, server_hostname="localhost")


def read_exactly(sock, n):
    data = b""
    while len(data) < n:
        chunk = sock.recv(n - len(data))
        if not chunk:
            break
        data += chunk
    return data


def read_packet(sock):
    """Reads one MQTT packet; returns bytes (empty if the peer closed first)."""
    first = read_exactly(sock, 1)
    if not first:
        return b""
    header = first
    length, multiplier = 0, 1
    while True:
        b = read_exactly(sock, 1)
        if not b:
            return b""
        header += b
        length += (b[0] & 0x7F) * multiplier
        multiplier *= 128
        if not b[0] & 0x80:
            break
    return header + read_exactly(sock, length)


def connect_protocol_level(packet):
    """The protocol level byte of a whole CONNECT packet."""
    i = 1
    while packet[i] & 0x80:
        i += 1
    i += 1
    name_length = int.from_bytes(packet[i:i + 2], "big")
    return packet[i + 2 + name_length]


def connack_code(packet):
    """The return/reason code of a CONNACK packet (byte 3), or None if it is not one."""
    if len(packet) >= 4 and packet[0] == 0x20:
        return packet[3]
    return None


def closed_without_data(sock, timeout=5.0):
    """True if the peer closes (EOF or reset) without sending anything."""
    sock.settimeout(timeout)
    try:
        return sock.recv(1) == b""
    except (ConnectionResetError, ssl.SSLError, BrokenPipeError):
        return True
    except socket.timeout:
        return False


# ---- paho ----------------------------------------------------------------------------------

class PahoSession:
    """A paho MQTT client whose callbacks feed thread-safe state: the CONNACK code, received
    messages, acknowledged message ids."""

    def __init__(self, client_id, username, password, protocol, ca_file):
        self._setup(client_id, protocol)
        context = ssl.create_default_context(cafile=ca_file)
        context.check_hostname = False
        self.client.tls_set_context(context)
        if username is not None:
            self.client.username_pw_set(username, password)

    def _setup(self, client_id, protocol):
        """The client and the callback-fed state; TLS and credentials are the caller's."""
        self.connack = None
        self.connected = threading.Event()
        self.messages = queue.Queue()
        self.published = set()
        self.subscribed = threading.Event()
        self._lock = threading.Lock()
        self.client = paho.Client(client_id=client_id, protocol=protocol,
                                  **({} if protocol == paho.MQTTv5 else {"clean_session": True}))
        self.client.on_connect = self._on_connect
        self.client.on_message = lambda c, u, m: self.messages.put(m)
        self.client.on_publish = self._on_publish
        self.client.on_subscribe = lambda *a: self.subscribed.set()

    def _on_connect(self, client, userdata, flags, rc, properties=None):
        self.connack = rc.value if hasattr(rc, "value") else rc
        self.connected.set()

    def _on_publish(self, client, userdata, mid):
        with self._lock:
            self.published.add(mid)

    def connect(self, port, bind_address=""):
        self.client.connect("127.0.0.1", port, keepalive=30, bind_address=bind_address)
        self.client.loop_start()
        return self

    def wait_connack(self, timeout=5.0):
        if not self.connected.wait(timeout):
            raise TimeoutError("no CONNACK from the proxy")
        return self.connack

    def subscribe(self, topic, qos=1, timeout=5.0):
        self.subscribed.clear()
        self.client.subscribe(topic, qos)
        if not self.subscribed.wait(timeout):
            raise TimeoutError("no SUBACK")

    def publish_acked(self, topic, payload, qos=1, timeout=5.0):
        """Publishes and waits until the broker acknowledged it (PUBACK for QoS 1)."""
        info = self.client.publish(topic, payload, qos=qos)
        if not wait_until(lambda: info.mid in self.published, timeout):
            raise TimeoutError("publish not acknowledged")

    def next_message(self, timeout=5.0):
        return self.messages.get(timeout=timeout)

    def close(self):
        try:
            self.client.disconnect()
        finally:
            self.client.loop_stop()
