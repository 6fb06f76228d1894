"""Redis Sentinel: the proxy finds the master through sentinels and follows a failover.

Master + replica + 3 sentinels on loopback. Devices connect in a loop while the master is
killed: connects succeed again within 10 s without restarting the proxy, and no client is
refused as if its credentials were wrong (CONNACK 4 or 5) because of the failover.
"""
import os
import socket
import subprocess
import time
import unittest

from harness import (IntegrationTest, Mosquitto, Process, Proxy, authctl, connack_code,
                     connect_packet, free_port, read_packet, tls_connect, wait_port, wait_until)


class RedisNode(Process):
    def __init__(self, workdir, name, replica_of=None, port=None):
        self.port = port or free_port()
        # Each node its own RDB file: a replica writes the one its full sync receives, and
        # loads it again when restarted.
        argv = ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
                "--appendonly", "no", "--dir", workdir, "--dbfilename", f"{name}.rdb"]
        if replica_of:
            argv += ["--replicaof", "127.0.0.1", str(replica_of)]
        super().__init__(name, argv, workdir)

    def start(self):
        super().start()
        wait_port(self.port, proc=self.proc)
        return self

    @property
    def url(self):
        """The node itself (for mqtt-authctl and direct writes), not through Sentinel."""
        return f"redis://127.0.0.1:{self.port}/0"

    def cli(self, *args):
        return subprocess.run(["redis-cli", "-p", str(self.port), *args], capture_output=True,
                              text=True, timeout=5).stdout.strip()


class Sentinel(Process):
    def __init__(self, workdir, index, master_port):
        self.port = free_port()
        conf = os.path.join(workdir, f"sentinel-{index}.conf")
        with open(conf, "w") as f:
            f.write(f"port {self.port}\nbind 127.0.0.1\n"
                    f"sentinel monitor mymaster 127.0.0.1 {master_port} 2\n"
                    "sentinel down-after-milliseconds mymaster 1000\n"
                    "sentinel failover-timeout mymaster 4000\n"
                    "sentinel parallel-syncs mymaster 1\n")
        super().__init__(f"sentinel-{index}", ["redis-server", conf, "--sentinel"], workdir)

    def start(self):
        super().start()
        wait_port(self.port, proc=self.proc)
        return self


class SentinelUrl:
    """Stands in for harness.Redis where only .url is used."""

    def __init__(self, sentinels):
        hosts = ",".join(f"127.0.0.1:{s.port}" for s in sentinels)
        self.url = f"sentinel://{hosts}/mymaster/0"


class SentinelFailoverTest(IntegrationTest):
    def setUp(self):
        super().setUp()
        self.master = self.started(RedisNode(self.workdir, "redis-master"))
        self.replica = self.started(RedisNode(self.workdir, "redis-replica", replica_of=self.master.port))
        self.sentinels = [self.started(Sentinel(self.workdir, i, self.master.port)) for i in range(3)]
        direct = type("Direct", (), {"url": f"redis://127.0.0.1:{self.master.port}/0"})()
        authctl(direct, "device", "add", "dev-1", "--username", "user-1", "--key", "key-one-1234567890")
        self.assertTrue(wait_until(lambda: self.replica.cli("HGET", "mqttauth:device:dev-1", "username") == "user-1",
                                   timeout=10), "replica did not sync")
        # Sentinels must know the replica before the master dies.
        self.assertTrue(wait_until(lambda: "slave" in self.sentinels[0].log() or
                                   "+slave" in self.sentinels[0].log(), timeout=10))
        self.broker = self.started(Mosquitto(self.workdir))
        self.proxy = self.started(Proxy(self.workdir, self.pki, SentinelUrl(self.sentinels), [self.broker]))

    def connect_once(self):
        try:
            sock = tls_connect(self.proxy.token_port, self.tls_context(), timeout=3)
            sock.sendall(connect_packet("dev-1", "user-1", "key-one-1234567890"))
            code = connack_code(read_packet(sock))
            sock.close()
            return code
        except (OSError, socket.timeout):
            return None

    def test_failover_is_followed_without_wrong_refusals(self):
        self.assertTrue(wait_until(lambda: self.connect_once() == 0, timeout=10),
                        "no successful connect through the sentinel-resolved master")
        killed_at = time.monotonic()
        self.master.stop()
        codes = []
        recovered_at = None
        while time.monotonic() - killed_at < 25:
            code = self.connect_once()
            codes.append(code)
            if code == 0 and time.monotonic() - killed_at > 0.5:
                recovered_at = time.monotonic()
                break
            time.sleep(0.2)
        self.assertIsNotNone(recovered_at, f"never recovered; codes seen: {codes}")
        promoted = self.replica.cli("ROLE").splitlines()[0]
        self.assertEqual(promoted, "master", "the replica was not promoted")
        # "within 10 s" counts from the failover, which sentinel completes ~1-3 s after the kill
        # (down-after-milliseconds 1000 + election).
        self.assertLess(recovered_at - killed_at, 13, codes)
        self.assertFalse([c for c in codes if c in (4, 5)], f"wrong refusals during failover: {codes}")
        self.assertTrue(all(c in (0, 3, None) for c in codes), codes)
        for _ in range(5):
            self.assertEqual(self.connect_once(), 0)


if __name__ == "__main__":
    unittest.main()
