"""The web console end to end in Debian's headless Chromium (tests/console/console.test.js,
playwright-core): create a certificate and download its bundle, create a cert device, bind
them; a paho client connects on the proxy's cert listener with that bundle; disabling the
certificate in the console disconnects it within 1 s. The browser steps take screenshots of
every console page (into docs/console/ with MAP_UPDATE_SCREENSHOTS=1).

Needs /usr/bin/chromium (scripts/install-deps.sh --all) and tests/console/node_modules
(npm ci --prefix tests/console); skipped without them."""
import json
import os
import shutil
import ssl
import subprocess
import tempfile
import threading
import time
import unittest
import urllib.request
import zipfile

import paho.mqtt.client as paho

import harness
from test_admin_api import AdminProcess, mosquitto_hash

CHROMIUM = "/usr/bin/chromium"
CONSOLE_DIR = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "console"))
CONSOLE_SCRIPT = os.path.join(CONSOLE_DIR, "console.test.js")
PLAYWRIGHT = os.path.join(CONSOLE_DIR, "node_modules", "playwright-core")
TOKEN = "console-admin-token-0123456789"
STEP_TIMEOUT = 45.0
KICK_DEADLINE = 1.0
# The committed screenshots are refreshed only on request (MAP_UPDATE_SCREENSHOTS=1), so a
# test run leaves the work tree clean; otherwise they go to a temporary folder and are
# checked there just the same.
UPDATE_SCREENSHOTS = os.environ.get("MAP_UPDATE_SCREENSHOTS") == "1"
SCREENSHOT_DIR = (os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", "docs", "console"))
                  if UPDATE_SCREENSHOTS else tempfile.mkdtemp(prefix="map-console-shots-"))
SCREENSHOTS = ["devices", "device", "certificates", "certificate", "sessions", "events"]

MISSING = [what for what, present in [
    (CHROMIUM + " (scripts/install-deps.sh --all)", os.path.exists(CHROMIUM)),
    ("node", shutil.which("node") is not None),
    (PLAYWRIGHT + " (npm ci --prefix tests/console)", os.path.isdir(PLAYWRIGHT)),
] if not present]


class ConsoleStep:
    """One run of console.test.js; its stdout JSON lines are read as they arrive and stamped
    with time.monotonic() on arrival."""

    def __init__(self, admin_url, out_dir, step, log_path):
        self._stderr = open(log_path, "ab")
        env = dict(os.environ, CONSOLE_SCREENSHOT_DIR=SCREENSHOT_DIR)
        self.proc = subprocess.Popen(["node", CONSOLE_SCRIPT, admin_url, TOKEN, out_dir, step],
                                     stdout=subprocess.PIPE, stderr=self._stderr,
                                     stdin=subprocess.DEVNULL, text=True, env=env)
        self._watchdog = threading.Timer(STEP_TIMEOUT, self.proc.kill)
        self._watchdog.start()
        self.log_path = log_path

    def records(self):
        """Yields (arrival time, record) for each line until the step exits."""
        for line in self.proc.stdout:
            yield time.monotonic(), json.loads(line)

    def finish(self):
        """The step's exit status, after it ended."""
        self.proc.stdout.close()
        status = self.proc.wait()
        self._watchdog.cancel()
        self._stderr.close()
        return status

    def log(self):
        with open(self.log_path, errors="replace") as f:
            return f.read()


class CertClient:
    """A paho MQTT 3.1.1 client presenting a certificate; records the CONNACK and the time of
    its first disconnection."""

    def __init__(self, client_id, username, certfile, keyfile, ca_file):
        self.connack = None
        self.connected = threading.Event()
        self.disconnected = threading.Event()
        self.disconnected_at = None
        self.client = paho.Client(client_id=client_id, protocol=paho.MQTTv311, clean_session=True)
        self.client.tls_set(ca_certs=ca_file, certfile=certfile, keyfile=keyfile,
                            tls_version=ssl.PROTOCOL_TLS_CLIENT)
        self.client.tls_insecure_set(True)
        self.client.username_pw_set(username)
        self.client.on_connect = self._on_connect
        self.client.on_disconnect = self._on_disconnect

    def _on_connect(self, client, userdata, flags, rc):
        self.connack = rc
        self.connected.set()

    def _on_disconnect(self, client, userdata, rc):
        if not self.disconnected.is_set():
            self.disconnected_at = time.monotonic()
            self.disconnected.set()

    def connect(self, port):
        self.client.connect("127.0.0.1", port, keepalive=30)
        self.client.loop_start()

    def close(self):
        try:
            self.client.disconnect()
        finally:
            self.client.loop_stop()


@unittest.skipUnless(not MISSING, "console browser test needs " + ", ".join(MISSING))
class ConsoleTest(harness.IntegrationTest):
    def setUp(self):
        super().setUp()
        self.redis = self.started(harness.Redis(self.workdir))
        self.broker = self.started(harness.Mosquitto(self.workdir))
        admin_port = harness.free_port()
        # The admin signs new certificates with the test CA, which the cert listener trusts.
        admin_yaml = (f"admin:\n  bind: \"127.0.0.1:{admin_port}\"\n  ca_dir: {self.pki.dir}\n"
                      f"  tokens:\n    - {{name: console, hash: \"{mosquitto_hash(TOKEN)}\"}}\n")
        self.proxy = self.started(harness.Proxy(self.workdir, self.pki, self.redis, [self.broker],
                                                extra_yaml=admin_yaml))
        self.admin = self.started(AdminProcess(self.workdir, self.proxy.config_path, admin_port))
        self.out_dir = os.path.join(self.workdir, "browser")
        os.makedirs(self.out_dir)

    def run_step(self, step, on_record=None):
        """Runs one console step; returns its records. |on_record(arrival, record)| sees each
        record as it arrives."""
        run = ConsoleStep(self.admin.url, self.out_dir, step,
                          os.path.join(self.workdir, f"console-{step}.log"))
        records = []
        try:
            for arrival, record in run.records():
                records.append(record)
                if on_record:
                    on_record(arrival, record)
        finally:
            status = run.finish()
        self.assertEqual(status, 0, f"console step {step} failed:\n{run.log()[-4000:]}")
        self.assertTrue(records and records[-1].get("done"), records)
        return records

    def connect_with_bundle(self, setup):
        name = setup["cert_name"]
        self.assertEqual(os.path.basename(setup["bundle"]), f"{name}_certs.zip")
        with zipfile.ZipFile(setup["bundle"]) as bundle:
            self.assertEqual(sorted(bundle.namelist()),
                             sorted(f"{name}_certs/{f}" for f in
                                    (f"{name}.crt", f"{name}.key", "root_ca.crt")))
            bundle.extractall(self.out_dir)
        folder = os.path.join(self.out_dir, f"{name}_certs")
        client = CertClient(setup["device"], setup["username"],
                            os.path.join(folder, f"{name}.crt"), os.path.join(folder, f"{name}.key"),
                            os.path.join(folder, "root_ca.crt"))
        self.addCleanup(client.close)
        client.connect(self.proxy.cert_port)
        self.assertTrue(client.connected.wait(5), "no CONNACK on the cert listener")
        self.assertEqual(client.connack, 0, self.proxy.log()[-2000:])
        return client

    def test_console_creates_binds_and_disabling_the_certificate_kicks_its_client(self):
        started = time.time()
        setup = self.run_step("setup")[-1]
        client = self.connect_with_bundle(setup)
        # The sessions view lists the session only once the proxy has recorded it.
        self.assertTrue(harness.wait_until(
            lambda: setup["device"] in json.dumps(self.admin_sessions()), 5))

        self.assertFalse(client.disconnected.is_set())
        step_started = time.monotonic()
        clicks = []
        self.run_step("disable", lambda arrival, record:
                      clicks.append(arrival) if record.get("clicking") else None)
        self.assertEqual(len(clicks), 1)
        # The step ends after more page loads, so the kick has normally landed by now.
        self.assertTrue(client.disconnected.wait(KICK_DEADLINE),
                        "the client is still connected after the certificate was disabled")
        # Connected while the step browsed the other pages, gone within 1 s of the moment the
        # step reported it was about to click Disable.
        self.assertGreater(client.disconnected_at, step_started)
        self.assertLessEqual(client.disconnected_at - clicks[0], KICK_DEADLINE)
        print(f"disconnected {client.disconnected_at - clicks[0]:.3f} s after the click")
        for name in SCREENSHOTS:
            shot = os.path.join(SCREENSHOT_DIR, name + ".png")
            self.assertGreaterEqual(os.path.getmtime(shot), started - 1, shot)
            with open(shot, "rb") as f:
                self.assertEqual(f.read(8), b"\x89PNG\r\n\x1a\n", shot)

    def admin_sessions(self):
        request = urllib.request.Request(self.admin.url + "/api/sessions")
        request.add_header("Authorization", "Bearer " + TOKEN)
        with urllib.request.urlopen(request, timeout=5) as response:
            return json.loads(response.read())


if __name__ == "__main__":
    unittest.main()
