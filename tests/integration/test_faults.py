"""Faults under load: Redis killed and restarted, the backend broker killed and restarted,
file descriptors exhausted. The proxy answers or closes every client promptly, keeps the
sessions it can keep, recovers by itself, never crashes and never spins."""
import os
import signal
import socket
import subprocess
import sys
import time
import unittest
from concurrent.futures import ThreadPoolExecutor

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "hostile"))

from harness import IntegrationTest, Mosquitto, Redis, wait_port, wait_until  # noqa: E402
from raw_client import Device, MqttError, cpu_seconds, open_fds  # noqa: E402

KEY = "0123456789abcdef0123456789abcdef"


class PersistentRedis(Redis):
    """Redis that keeps its data in an RDB file in the test's folder, so a restart after
    SIGKILL comes back with the devices (SAVE is called before the kill)."""

    def __init__(self, workdir, port=None):
        super().__init__(workdir, port)
        self.argv += ["--dir", workdir, "--dbfilename", f"redis-{self.port}.rdb"]


class FaultTest(IntegrationTest):
    def device(self, i, version=4):
        return Device(self.proxy.token_port, self.tls_context(), f"dev-{i}", f"user-{i}", KEY,
                      version=version, timeout=5)

    def connected_devices(self, count):
        devices = []
        for i in range(count):
            device = self.device(i, version=5 if i % 2 else 4)
            self.addCleanup(device.close)
            self.assertEqual(device.connect(), 0)
            device.subscribe(f"fault/{i}", qos=1)
            devices.append(device)
        return devices

    def relay_round(self, devices, tag):
        """Each device publishes one QoS 1 message to its own topic and must get both the
        PUBACK and the message back."""
        for i, device in enumerate(devices):
            before = len(device.received)
            packet_id = device.publish(f"fault/{i}", f"{tag}-{i}".encode(), qos=1)
            device.pump(lambda: packet_id in device.acked and len(device.received) > before,
                        timeout=5)
            self.assertEqual(device.received[-1], (f"fault/{i}", f"{tag}-{i}".encode()))

    def timed_connect(self, i, version):
        device = self.device(i, version)
        started = time.monotonic()
        try:
            code = device.connect()
        except (OSError, MqttError) as error:
            code = repr(error)
        finally:
            device.close()
        return code, time.monotonic() - started


class RedisKilledUnderLoad(FaultTest):
    def setUp(self):
        super().setUp()
        self.redis = self.started(PersistentRedis(self.workdir))
        self.broker = self.started(Mosquitto(self.workdir))
        from harness import Proxy
        self.proxy = self.started(Proxy(self.workdir, self.pki, self.redis, [self.broker]))
        for i in range(40):
            self.add_device(f"dev-{i}", f"user-{i}", KEY)
        self.redis.cli("SAVE")

    def test_redis_killed_and_restarted(self):
        established = self.connected_devices(10)
        self.relay_round(established, "before")

        self.redis.stop(signal.SIGKILL)
        # New connects, 20 at once, v3.1.1 and v5: each refused as server unavailable
        # within 2 s, never left hanging.
        with ThreadPoolExecutor(max_workers=20) as pool:
            results = list(pool.map(lambda i: self.timed_connect(10 + i, 5 if i % 2 else 4),
                                    range(20)))
        for i, (code, elapsed) in enumerate(results):
            self.assertEqual(code, 0x88 if i % 2 else 3, f"connect {i}: {code}")
            self.assertLess(elapsed, 2.0, f"connect {i} answered after {elapsed:.2f}s")
        # Established sessions keep relaying while Redis is down.
        self.relay_round(established, "during")
        self.assertIsNone(self.proxy.proc.poll())

        self.redis = self.started(PersistentRedis(self.workdir, port=self.redis.port))
        returned = time.monotonic()
        ok = wait_until(lambda: self.timed_connect(30, 4)[0] == 0, timeout=2.0, interval=0.1)
        self.assertTrue(ok, "auth did not work within 2 s of Redis returning")
        print(f"\nauth back {time.monotonic() - returned:.2f}s after Redis returned",
              file=sys.stderr)
        self.relay_round(established, "after")


class BrokerKilledUnderLoad(FaultTest):
    def setUp(self):
        super().setUp()
        self.start_stack()
        for i in range(10):
            self.add_device(f"dev-{i}", f"user-{i}", KEY)

    def test_broker_killed_and_restarted(self):
        devices = self.connected_devices(10)
        self.relay_round(devices, "before")
        port = self.backend_port
        self.broker.stop(signal.SIGKILL)
        killed = time.monotonic()
        for device in devices:
            remaining = max(0.1, killed + 2.0 - time.monotonic())
            device.sock.settimeout(remaining)
            try:
                data = device.sock.recv(4096)
                self.assertEqual(data, b"", "expected the proxy to close the client")
            except (ConnectionResetError, OSError) as error:
                self.assertNotIsInstance(error, socket.timeout,
                                         "client still open 2 s after the broker died")
        self.assertLess(time.monotonic() - killed, 2.5)
        self.assertIsNone(self.proxy.proc.poll())

        self.broker = self.started(Mosquitto(self.workdir, port=port))
        back = self.connected_devices(10)
        self.relay_round(back, "after")


class FileDescriptorsExhausted(FaultTest):
    @staticmethod
    def closed_by_peer(sock):
        sock.setblocking(False)
        try:
            return sock.recv(1) == b""
        except BlockingIOError:
            return False
        except OSError:
            return True

    FD_LIMIT = 64

    def setUp(self):
        super().setUp()
        self.start_stack()
        for i in range(4):
            self.add_device(f"dev-{i}", f"user-{i}", KEY)

    def test_accept_pauses_and_resumes_without_spinning(self):
        pid = self.proxy.proc.pid
        subprocess.run(["prlimit", f"--pid={pid}", f"--nofile={self.FD_LIMIT}:{self.FD_LIMIT}"],
                       check=True)
        # More connections than descriptors: the proxy cannot accept them all.
        sockets = []
        for _ in range(self.FD_LIMIT * 2):
            try:
                sockets.append(socket.create_connection(("127.0.0.1", self.proxy.token_port),
                                                        timeout=2))
            except OSError:
                break
        wait_until(lambda: open_fds(pid) >= self.FD_LIMIT - 2, timeout=3)
        fds_at_limit = open_fds(pid)
        time.sleep(0.5)
        log_before = len(self.proxy.log().splitlines())
        cpu_before = cpu_seconds(pid)
        time.sleep(2.0)
        cpu_used = cpu_seconds(pid) - cpu_before
        log_lines = len(self.proxy.log().splitlines()) - log_before
        shed = sum(1 for sock in sockets if self.closed_by_peer(sock))
        print(f"\n{len(sockets)} sockets opened, proxy fds {fds_at_limit}, {shed} closed by "
              f"the proxy, CPU over 2 s at the limit {cpu_used:.2f}s, {log_lines} log lines",
              file=sys.stderr)
        self.assertLess(log_lines, 50, "the proxy floods its log while out of descriptors")
        self.assertIsNone(self.proxy.proc.poll(), "the proxy died at the fd limit")
        self.assertLess(cpu_used, 0.5, "the proxy spins while out of descriptors")

        for sock in sockets:
            sock.close()
        # Accepting resumes: a device gets through and relays.
        ok = wait_until(lambda: self.timed_connect(0, 4)[0] == 0, timeout=10, interval=0.5)
        self.assertTrue(ok, "no CONNACK 0 after the descriptors were released")
        devices = self.connected_devices(2)
        self.relay_round(devices, "after")
        self.assertIsNone(self.proxy.proc.poll())


if __name__ == "__main__":
    unittest.main()
