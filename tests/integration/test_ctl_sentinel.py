"""mqtt-authctl and mqtt-auth-admin with a sentinel:// URL: writes go to the master the
sentinels name, and follow a failover without any change of URL or restart.

Master + replica + 3 sentinels on loopback, as in test_sentinel.
"""
import os
import subprocess
import unittest

import harness
from harness import AUTHCTL_BIN, IntegrationTest, wait_until
from test_admin_api import TOKEN, Admin, call
from test_sentinel import RedisNode, Sentinel, SentinelUrl


def authctl_env(url, *args, env=None):
    return subprocess.run([AUTHCTL_BIN, "--redis", url, *args], capture_output=True, text=True,
                          env={**os.environ, **(env or {})}, timeout=30)


class CtlThroughSentinelTest(IntegrationTest):
    def setUp(self):
        super().setUp()
        self.master = self.started(RedisNode(self.workdir, "redis-master"))
        self.replica = self.started(RedisNode(self.workdir, "redis-replica", replica_of=self.master.port))
        self.sentinels = [self.started(Sentinel(self.workdir, i, self.master.port)) for i in range(3)]
        self.assertTrue(wait_until(lambda: "+slave" in self.sentinels[0].log(), timeout=10),
                        "the sentinels never saw the replica")
        self.url = SentinelUrl(self.sentinels).url

    def test_authctl_writes_to_the_master_before_and_after_a_failover(self):
        out = authctl_env(self.url, "device", "add", "dev-1", "--username", "u1", "--key", "k1-0123456789")
        self.assertEqual(out.returncode, 0, out.stderr)
        self.assertEqual(self.master.cli("HGET", "mqttauth:device:dev-1", "username"), "u1")
        self.assertTrue(wait_until(lambda: self.replica.cli("HGET", "mqttauth:device:dev-1", "username") == "u1",
                                   timeout=10), "replica did not sync")

        self.master.stop()
        self.assertTrue(wait_until(lambda: self.replica.cli("ROLE").splitlines()[:1] == ["master"],
                                   timeout=20), "the replica was not promoted")
        # Sentinels may name the new master a moment before it accepts writes.
        self.assertTrue(wait_until(lambda: authctl_env(self.url, "device", "add", "dev-2", "--username", "u2",
                                                       "--key", "k2-0123456789").returncode == 0,
                                   timeout=10))
        self.assertEqual(self.replica.cli("HGET", "mqttauth:device:dev-2", "username"), "u2")
        listed = authctl_env(self.url, "--json", "device", "list")
        self.assertEqual(listed.returncode, 0, listed.stderr)
        self.assertIn("dev-1", listed.stdout)
        self.assertIn("dev-2", listed.stdout)

    def test_no_sentinel_reachable_fails_with_a_reason(self):
        dead = f"sentinel://127.0.0.1:{harness.closed_port().port}/mymaster/0"
        out = authctl_env(dead, "device", "list")
        self.assertEqual(out.returncode, 1)
        self.assertIn("no sentinel gave a reachable master for mymaster", out.stderr)

    def test_unknown_master_name_is_reported(self):
        url = self.url.replace("/mymaster/", "/othermaster/")
        out = authctl_env(url, "device", "list")
        self.assertEqual(out.returncode, 1)
        self.assertIn("does not monitor othermaster", out.stderr)

    def test_sentinel_password_comes_from_the_environment(self):
        # A fourth sentinel that wants a password (requirepass is a sentinel-file setting).
        guarded = Sentinel(self.workdir, 9, self.master.port)
        with open(os.path.join(self.workdir, "sentinel-9.conf"), "a") as f:
            f.write("requirepass s3ntinel\n")
        self.started(guarded)
        url = SentinelUrl([guarded]).url
        refused = authctl_env(url, "device", "list")
        self.assertEqual(refused.returncode, 1)
        self.assertNotIn("s3ntinel", refused.stderr)
        self.assertIn("NOAUTH", refused.stderr)
        out = authctl_env(url, "device", "list", env={"MQTT_AUTHCTL_SENTINEL_PASSWORD": "s3ntinel"})
        self.assertEqual(out.returncode, 0, out.stderr)

    def test_admin_api_writes_to_the_master_the_sentinels_name(self):
        admin = self.started(Admin(self.workdir, self.pki, type("Url", (), {"url": self.url})(),
                                   {"ops": TOKEN}))
        status, body, _ = call(admin, "POST", "/api/devices",
                               {"id": "dev-a", "username": "ua"})
        self.assertEqual(status, 201, body)
        self.assertEqual(self.master.cli("HGET", "mqttauth:device:dev-a", "username"), "ua")
        self.master.stop()
        self.assertTrue(wait_until(lambda: self.replica.cli("ROLE").splitlines()[:1] == ["master"],
                                   timeout=20), "the replica was not promoted")
        self.assertTrue(wait_until(lambda: call(admin, "POST", "/api/devices",
                                                {"id": "dev-b", "username": "ub"})[0] == 201, timeout=10))
        self.assertEqual(self.replica.cli("HGET", "mqttauth:device:dev-b", "username"), "ub")


if __name__ == "__main__":
    unittest.main()
