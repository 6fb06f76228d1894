"""Redis or the broker unavailable: the client gets CONNACK 3 / 0x88 quickly, never a hang,
and the proxy recovers by itself once the dependency is back."""
import os
import signal
import time
import unittest

from harness import (IntegrationTest, Mosquitto, Redis, connect_packet, wait_until)

KEY = "0123456789abcdef0123456789abcdef"
GOOD_V4 = connect_packet("sensor-1", "user-1", KEY, version=4)
GOOD_V5 = connect_packet("sensor-1", "user-1", KEY, version=5)


class OutageTest(IntegrationTest):
    def timed_connack(self, packet):
        started = time.monotonic()
        code = self.raw_connack(packet)
        return code, time.monotonic() - started

    def assert_server_unavailable(self):
        for packet, expected in ((GOOD_V4, 3), (GOOD_V5, 0x88)):
            with self.subTest(expected=expected):
                code, elapsed = self.timed_connack(packet)
                self.assertEqual(code, expected)
                self.assertLess(elapsed, 2.0, f"CONNACK {expected} took {elapsed:.2f}s")

    def assert_recovers(self, timeout=3.0):
        """The next connects succeed within |timeout| without restarting the proxy."""
        proxy_pid = self.proxy.proc.pid
        ok = wait_until(lambda: self.raw_connack(GOOD_V4) == 0, timeout=timeout, interval=0.2)
        self.assertTrue(ok, f"no CONNACK 0 within {timeout}s after recovery")
        self.assertEqual(self.raw_connack(GOOD_V5), 0)
        self.assertIsNone(self.proxy.proc.poll())
        self.assertEqual(self.proxy.proc.pid, proxy_pid)


class RedisOutage(OutageTest):
    def setUp(self):
        super().setUp()
        self.start_stack()
        self.add_device("sensor-1", "user-1", KEY)
        self.assertEqual(self.raw_connack(GOOD_V4), 0)

    def test_redis_stopped_then_restarted_on_same_port(self):
        self.redis.stop()
        self.assert_server_unavailable()
        self.assert_server_unavailable()  # still answered while Redis stays down
        self.redis = self.started(Redis(self.workdir, port=self.redis.port))
        self.add_device("sensor-1", "user-1", KEY)  # the new Redis starts empty
        self.assert_recovers()

    def test_redis_paused_then_resumed(self):
        pid = self.redis.proc.pid
        os.kill(pid, signal.SIGSTOP)
        try:
            for packet, expected in ((GOOD_V4, 3), (GOOD_V5, 0x88)):
                code, elapsed = self.timed_connack(packet)
                self.assertEqual(code, expected)
                # redis.timeout is 1s in the harness config.
                self.assertLess(elapsed, 2.5, f"CONNACK {expected} took {elapsed:.2f}s")
        finally:
            os.kill(pid, signal.SIGCONT)
        self.assert_recovers()

    def test_wrong_key_is_still_refused_after_redis_recovery(self):
        self.redis.stop()
        self.assert_server_unavailable()
        self.redis = self.started(Redis(self.workdir, port=self.redis.port))
        self.add_device("sensor-1", "user-1", KEY)
        self.assert_recovers()
        self.assertEqual(self.raw_connack(connect_packet("sensor-1", "user-1", "bad")), 4)


class BackendOutage(OutageTest):
    def setUp(self):
        super().setUp()
        self.start_stack(backend_up=False)  # the configured backend port has no listener
        self.add_device("sensor-1", "user-1", KEY)

    def test_backend_down_then_up(self):
        self.assert_server_unavailable()
        self.broker = self.started(Mosquitto(self.workdir, port=self.backend_port))
        self.assert_recovers()

    def test_auth_failure_is_reported_as_such_even_with_backend_down(self):
        # The decision comes before the backend connect: a wrong key is 4, not 3.
        self.assertEqual(self.raw_connack(connect_packet("sensor-1", "user-1", "bad")), 4)


if __name__ == "__main__":
    unittest.main()
