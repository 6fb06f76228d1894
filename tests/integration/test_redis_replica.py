"""Issue 7: `redis.read_from: replica`. Master + replica + 3 sentinels on loopback, a proxy
with two workers reading CONNECT lookups from the replica named by Sentinel:

- the lookups' commands run on the replica (INFO commandstats), none on the master, while
  the session records and events are written to the master;
- the replica killed: devices still connect (the master answers), never CONNACK 3, 4 or 5;
  when it comes back, lookups move back to it;
- revocation: a device disabled on the master is kicked, also when the replica has not got
  the change (a write the master does not replicate): re-checks read the master.
"""
import os
import signal
import socket
import subprocess
import threading
import time
import unittest

from harness import Mosquitto, free_port, wait_until
from mtls_util import PREFIX, MtlsProxy, MtlsTest, authctl
from ops_util import http_request, parse_exposition, value
from test_revocation import ADMINISTRATIVE_ACTION, LiveDevice, disconnect_v5
from test_sentinel import RedisNode, Sentinel, SentinelUrl

V5 = 5

# Disables a device on the master only: redis.set_repl(REPL_NONE) keeps the write off the
# replication stream, which is what a replica lagging behind looks like, for as long as needed.
DISABLE_WITHOUT_REPLICATING = ("redis.set_repl(redis.REPL_NONE); "
                               "return redis.call('HSET', KEYS[1], 'enabled', '0')")


def command_calls(node, command):
    """How many times |command| ran on |node| since the last CONFIG RESETSTAT."""
    for line in node.cli("INFO", "commandstats").splitlines():
        if line.startswith(f"cmdstat_{command}:"):
            return int(line.split("calls=", 1)[1].split(",", 1)[0])
    return 0


def sentinel_replicas(sentinel):
    """SENTINEL REPLICAS mymaster as a list of {field: value}."""
    lines = subprocess.run(["redis-cli", "-p", str(sentinel.port), "SENTINEL", "REPLICAS", "mymaster"],
                           capture_output=True, text=True, timeout=5).stdout.splitlines()
    entries, current = [], None
    for i in range(0, len(lines) - 1, 2):
        if lines[i] == "name":
            current = {}
            entries.append(current)
        if current is not None:
            current[lines[i]] = lines[i + 1]
    return entries


def lists_healthy(sentinel, port):
    return any(e.get("port") == str(port) and e.get("flags") == "slave" and
               e.get("master-link-status") == "ok" for e in sentinel_replicas(sentinel))


class ReplicaProxy(MtlsProxy):
    """MtlsProxy with `redis.read_from: replica`, and optionally another
    `backend.connect_timeout`."""

    def __init__(self, *args, backend_connect_timeout=None, **kwargs):
        super().__init__(*args, **kwargs)
        with open(self.config_path) as f:
            text = f.read()
        edits = [("\nredis:\n", "\nredis:\n  read_from: replica\n")]
        if backend_connect_timeout:
            edits.append(("\n  connect_timeout: 1s\n", f"\n  connect_timeout: {backend_connect_timeout}\n"))
        for old, new in edits:
            if old not in text:
                raise RuntimeError(f"harness config changed shape: no {old!r}")
            text = text.replace(old, new, 1)
        with open(self.config_path, "w") as f:
            f.write(text)


class HeldBackend:
    """A backend whose TCP connects hang until release(): its accept queue is full and it
    accepts nothing, so the kernel drops SYNs; after release() a connect completes at the
    client's next SYN retransmit (about 1 s after it began). Accepted sockets are kept open
    and never answered."""

    def __init__(self):
        self.listener = socket.socket()
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(0)
        self.port = self.listener.getsockname()[1]
        self.sockets = []
        while True:  # fill the accept queue until a connect no longer completes
            filler = socket.socket()
            filler.setblocking(False)
            filler.connect_ex(("127.0.0.1", self.port))
            self.sockets.append(filler)
            time.sleep(0.05)
            try:
                filler.getpeername()
            except OSError:
                break
        self.closed = threading.Event()

    def release(self):
        def accept_all():
            self.listener.settimeout(0.2)
            while not self.closed.is_set():
                try:
                    self.sockets.append(self.listener.accept()[0])
                except (socket.timeout, OSError):
                    pass
        threading.Thread(target=accept_all, daemon=True).start()

    def close(self):
        self.closed.set()
        for s in self.sockets + [self.listener]:
            s.close()


class ReadFromReplicaTest(MtlsTest):
    def setUp(self):
        super().setUp()
        self.master = self.started(RedisNode(self.workdir, "redis-master"))
        self.replica = self.started(RedisNode(self.workdir, "redis-replica", replica_of=self.master.port))
        self.sentinels = [self.started(Sentinel(self.workdir, i, self.master.port)) for i in range(3)]
        self.redis = self.master  # mqtt-authctl and direct writes go to the master
        self.devices_dir = self.workdir + "/devices"
        self.assertTrue(wait_until(lambda: all(lists_healthy(s, self.replica.port) for s in self.sentinels),
                                   timeout=30), "the sentinels do not list the replica as healthy")
        self.broker = self.started(Mosquitto(self.workdir))
        self.metrics_port = free_port()

    def start_proxy(self, backends=None, backend_connect_timeout=None):
        self.proxy = self.started(ReplicaProxy(
            self.workdir, self.pki, SentinelUrl(self.sentinels), backends or [self.broker], workers=2,
            extra_yaml=f"metrics: {{bind: \"127.0.0.1:{self.metrics_port}\"}}\n",
            backend_connect_timeout=backend_connect_timeout))
        self.wait_for_replica_links()

    def wait_for_replica_links(self):
        wanted = f"redis replica: connected to 127.0.0.1:{self.replica.port}"
        self.assertTrue(wait_until(lambda: self.proxy.log().count(wanted) >= 2, timeout=15),
                        "both workers should connect to the replica")

    def add_token_device(self, device_id, key="k1"):
        authctl(self.master, "device", "add", device_id, "--username", "acme", "--key", key)
        self.wait_replicated(f"{PREFIX}device:{device_id}")

    def wait_replicated(self, key):
        self.assertTrue(wait_until(lambda: self.replica.cli("EXISTS", key) == "1", timeout=5),
                        f"{key} did not reach the replica")

    def token_code(self, device_id, key="k1", version=4):
        return self.raw_code(device_id, "acme", key, version, port=self.proxy.token_port)

    def metric(self, name, **labels):
        status, body = http_request(self.metrics_port, "/metrics")
        self.assertEqual(status, 200)
        return value(parse_exposition(body), name, **labels)

    def test_connect_lookups_read_the_replica_and_writes_go_to_the_master(self):
        # Provisioned before the proxy subscribes to `changes`: a session starting within a
        # minute of a change it saw is re-checked from the master (see the last test).
        self.add_token_device("meter-1")
        authctl(self.master, "device", "add", "cam-1", "--username", "acme", "--auth", "cert")
        cert_id, cert, key = self.new_cert("cam1", devices=("cam-1",))
        self.assertTrue(wait_until(
            lambda: self.replica.cli("SISMEMBER", f"{PREFIX}cert:{cert_id}:devices", "cam-1") == "1",
            timeout=5))
        self.start_proxy()
        for node in (self.master, self.replica):
            node.cli("CONFIG", "RESETSTAT")
        for _ in range(4):
            self.assertEqual(self.token_code("meter-1"), 0)
        for _ in range(3):
            self.assertEqual(self.raw_code("cam-1", "acme", cert=(cert, key)), 0)

        # 4 token lookups (HGETALL device) + 3 cert lookups (HGETALL device, HGETALL cert,
        # SISMEMBER binding): all on the replica, none on the master.
        self.assertEqual(command_calls(self.replica, "hgetall"), 4 + 3 * 2)
        self.assertEqual(command_calls(self.replica, "sismember"), 3)
        self.assertEqual(command_calls(self.master, "hgetall"), 0)
        self.assertEqual(command_calls(self.master, "sismember"), 0)
        # Session records and events on the master (the replica would refuse them: READONLY).
        self.assertTrue(wait_until(lambda: command_calls(self.master, "xadd") >= 2 * 7, timeout=3),
                        "connect + disconnect events of the 7 sessions")
        self.assertGreaterEqual(command_calls(self.master, "hset"), 7)
        self.assertEqual(self.replica.cli("CONFIG", "GET", "replica-read-only").splitlines()[1], "yes")
        events = self.master.cli("XLEN", f"{PREFIX}events")
        self.assertGreaterEqual(int(events), 14)

        self.assertTrue(wait_until(
            lambda: self.metric("mqtt_auth_proxy_redis_lookups_total", node="replica") == 7, timeout=3),
            self.metric("mqtt_auth_proxy_redis_lookups_total", node="replica"))
        self.assertEqual(self.metric("mqtt_auth_proxy_redis_lookups_total", node="master"), 0)
        self.assertEqual(self.metric("mqtt_auth_proxy_redis_dropped_writes_total"), 0)
        self.assertEqual(self.metric("mqtt_auth_proxy_redis_connected"), 2)

    def test_replica_down_lookups_fall_back_to_the_master(self):
        self.add_token_device("meter-1")  # before the proxy: see the first test
        self.start_proxy()
        self.assertEqual(self.token_code("meter-1"), 0)
        self.assertEqual(command_calls(self.master, "hgetall"), 0)
        replica_port = self.replica.port

        self.replica.stop(signal.SIGKILL)
        codes = []
        for _ in range(15):
            codes.append(self.token_code("meter-1"))
            time.sleep(0.1)
        self.assertEqual(codes, [0] * 15, "every device must still get in")
        self.assertGreaterEqual(command_calls(self.master, "hgetall"), 15)
        # Sentinel marks it down and the workers stop looking for it at every lookup.
        self.assertTrue(wait_until(lambda: "no usable replica of mymaster" in self.proxy.log(), timeout=15))
        self.assertEqual(self.token_code("meter-1"), 0)

        # Back on the same port: lookups move back to it, without a restart of the proxy.
        self.replica = self.started(RedisNode(self.workdir, "redis-replica", replica_of=self.master.port,
                                              port=replica_port))
        self.assertTrue(wait_until(lambda: lists_healthy(self.sentinels[0], replica_port), timeout=30))
        self.wait_replicated(f"{PREFIX}device:meter-1")

        def served_by_replica():
            before = command_calls(self.replica, "hgetall")
            self.assertEqual(self.token_code("meter-1"), 0)
            return command_calls(self.replica, "hgetall") > before
        self.assertTrue(wait_until(served_by_replica, timeout=20, interval=0.5),
                        "lookups did not return to the replica")

    def test_replica_still_syncing_is_not_read(self):
        self.add_token_device("meter-1")  # before the proxy: see the first test
        self.start_proxy()
        self.assertEqual(self.token_code("meter-1"), 0)
        # A restarted replica comes back empty and waits for its full sync, which the master
        # holds back for 30 s here. Sentinel may still call it healthy (its INFO is up to 10 s
        # old); read from, it would refuse every device as unknown.
        self.master.cli("CONFIG", "SET", "repl-diskless-sync", "yes")
        self.master.cli("CONFIG", "SET", "repl-diskless-sync-delay", "30")
        port = self.replica.port
        self.replica.stop(signal.SIGKILL)
        os.remove(os.path.join(self.workdir, "redis-replica.rdb"))  # the last full sync's data
        self.replica = self.started(RedisNode(self.workdir, "redis-replica", replica_of=self.master.port,
                                              port=port))
        self.assertEqual(self.replica.cli("DBSIZE"), "0")
        self.assertNotEqual(self.replica.cli("ROLE").splitlines()[3], "connected")
        codes = []
        deadline = time.monotonic() + 8
        while time.monotonic() < deadline:
            codes.append(self.token_code("meter-1"))
            time.sleep(0.2)
        self.assertEqual(set(codes), {0}, codes)
        self.assertEqual(self.replica.cli("DBSIZE"), "0", "the replica synced after all: test void")
        self.assertEqual(command_calls(self.replica, "hgetall"), 0)

    def test_stuck_replica_lookup_is_answered_by_the_master(self):
        self.add_token_device("meter-1")  # before the proxy: see the first test
        self.start_proxy()
        self.assertEqual(self.token_code("meter-1"), 0)
        # The replica stops answering with the lookup already sent to it: after the 1 s
        # redis.timeout the proxy drops that connection and asks the master instead.
        self.replica.cli("CLIENT", "PAUSE", "4000", "ALL")
        started = time.monotonic()
        self.assertEqual(self.token_code("meter-1"), 0)
        elapsed = time.monotonic() - started
        self.assertGreater(elapsed, 0.9, "answered before the timeout: not by the paused replica's link")
        self.assertLess(elapsed, 3.0, "waited for the replica instead of asking the master")
        self.assertEqual(command_calls(self.master, "hgetall"), 1)
        self.assertIn("redis replica: dropping connection to", self.proxy.log())
        self.assertIn("command timed out", self.proxy.log())

    def test_revocation_rereads_the_master(self):
        self.start_proxy()
        # The ordinary path: mqtt-authctl writes on the master and publishes the change.
        for device in ("meter-a-v3", "meter-a-v5"):
            self.add_token_device(device)
        live = LiveDevice(self, "meter-a", "acme", key="k1")
        started = time.monotonic()
        for device in live.ids:
            authctl(self.master, "device", "disable", device)
        waited, packets = live.v5.wait_closed(timeout=3.0)
        self.assertIsNotNone(waited, "session still open 3 s after device disable")
        self.assertLess(time.monotonic() - started, 1.0)
        self.assertEqual(packets, [disconnect_v5(ADMINISTRATIVE_ACTION)])
        self.assertTrue(live.v3.disconnected.wait(3.0))

        # A change the replica has not got: the re-check the change feed starts reads the
        # master, so the session still ends.
        self.add_token_device("meter-b")
        session = self.raw(port=self.proxy.token_port)
        self.assertEqual(session.connect("meter-b", "acme", "k1", version=V5), 0)
        key = f"{PREFIX}device:meter-b"
        self.master.cli("EVAL", DISABLE_WITHOUT_REPLICATING, "1", key)
        self.assertEqual(self.master.cli("HGET", key, "enabled"), "0")
        time.sleep(0.3)
        self.assertNotEqual(self.replica.cli("HGET", key, "enabled"), "0", "the replica must be stale here")
        started = time.monotonic()
        self.master.cli("PUBLISH", f"{PREFIX}changes", "device meter-b")
        waited, packets = session.wait_closed(timeout=3.0)
        self.assertIsNotNone(waited, "the re-check read the stale replica")
        self.assertLess(time.monotonic() - started, 1.0)
        self.assertEqual(packets, [disconnect_v5(ADMINISTRATIVE_ACTION)])
        # A CONNECT inside the lag: the replica still has the device enabled and lets it
        # through, but a change to it was seen a moment ago, so the session is re-checked from
        # the master as it starts, and dropped (before or just after the broker's CONNACK).
        kicks = self.proxy.log().count("session_kicked device=meter-b")
        late = self.raw(port=self.proxy.token_port)
        code = late.connect("meter-b", "acme", "k1", version=V5)
        self.assertIn(code, (0, None))
        waited, packets = late.wait_closed(timeout=3.0)
        self.assertIsNotNone(waited, "a device disabled on the master kept its session")
        self.assertTrue(wait_until(
            lambda: self.proxy.log().count("session_kicked device=meter-b") == kicks + 1, timeout=2))

    def test_change_handled_before_the_session_starts_is_rechecked(self):
        # The CONNECT lookup reads the replica; the device is then disabled (on the master
        # only) and the change handled while the proxy still connects to the broker, so no
        # session is there to re-check yet. The session is re-checked from the master as it
        # starts.
        held = HeldBackend()
        self.addCleanup(held.close)
        self.start_proxy(backends=[held], backend_connect_timeout="5s")
        self.add_token_device("racer")
        lookups_before = command_calls(self.replica, "hgetall")
        session = self.raw(port=self.proxy.token_port)
        outcome = {}
        connecting = threading.Thread(
            target=lambda: outcome.update(code=session.connect("racer", "acme", "k1", timeout=10)))
        connecting.start()
        self.assertTrue(wait_until(lambda: command_calls(self.replica, "hgetall") > lookups_before,
                                   timeout=5), "no lookup on the replica")
        key = f"{PREFIX}device:racer"
        self.master.cli("EVAL", DISABLE_WITHOUT_REPLICATING, "1", key)
        self.master.cli("PUBLISH", f"{PREFIX}changes", "device racer")
        time.sleep(0.3)
        self.assertNotIn("session_kicked", self.proxy.log())
        self.assertNotIn("connect_accepted device=racer", self.proxy.log())
        held.release()
        self.assertTrue(wait_until(lambda: "connect_accepted device=racer" in self.proxy.log(), timeout=5),
                        "the backend connect never completed")
        self.assertTrue(wait_until(lambda: "session_kicked device=racer" in self.proxy.log(), timeout=3),
                        "the session was not re-checked as it started")
        self.assertIn("reason=device_disabled", self.proxy.log())
        connecting.join(timeout=10)
        self.assertIsNone(outcome.get("code"), "closed without a CONNACK (the broker never answered)")
        self.assertEqual(command_calls(self.master, "hgetall"), 1, "the re-check reads the master")


if __name__ == "__main__":
    unittest.main()
