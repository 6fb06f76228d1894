#!/usr/bin/python3
"""Compatibility matrix: real brokers behind mqtt-auth-proxy, real client libraries in front.

For every broker × client × protocol level × listener (token key on the token listener,
certificate on the cert listener) it runs the same scenario through the proxy and prints
broker × client × protocol × feature → PASS / FAIL / N-A. Exits 1 on any FAIL.

  run_matrix.py            every broker (Mosquitto anonymous and password file, Aedes, RabbitMQ)
  run_matrix.py --quick    the CI subset: Mosquitto + Aedes × every client (under 2 minutes)
  --markdown FILE          also writes the matrix as Markdown (docs/COMPATIBILITY.md uses it)
  --json FILE              also writes every result with its detail

Needs the built binaries (build/bin, or MAP_BIN_DIR), redis-server, mosquitto and its
clients, node with tests/compat/node_modules (npm ci), cc with libpaho-mqtt-dev, and for the
full run rabbitmq-server.

Client drivers. paho_py_client.py, mqttjs_client.js and the Paho C program share one command
line (MODE --port --ca [--cert --key] --id --user [--password] --version --topic) and three
modes: `scenario` prints `RESULT <feature> PASS|FAIL <detail>` lines; `will` connects with a
last will on TOPIC/will, prints CONNECTED and waits to be SIGKILLed (the socket closes
without DISCONNECT); `refuse` prints `REFUSED <code> <text>` as the library reports it.
mosquitto_pub/mosquitto_sub are driven from here (MosquittoCliDriver) to the same effect.
"""
import argparse
import concurrent.futures
import json
import os
import queue
import shutil
import signal
import ssl
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "integration"))

import paho.mqtt.client as paho  # noqa: E402

from harness import (Mosquitto, Pki, Process, Redis, authctl, free_port,  # noqa: E402
                     wait_port)
from mtls_util import MtlsProxy  # noqa: E402

FEATURES = ["connect", "subscribe", "qos0", "qos1", "qos2", "retained", "will", "disconnect",
            "refusal"]
LISTENERS = ["token", "cert"]
READY_TIMEOUT = 10.0
# The refusal each client must report: wrong key (token) or username mismatch (cert).
EXPECTED_REFUSAL = {3: 4, 4: 4, 5: 0x86}
BACKEND_USER, BACKEND_PASSWORD = "proxy-backend", "backend-secret-1"


# ---- brokers -------------------------------------------------------------------------------

class MosquittoWithPasswordFile(Mosquitto):
    """Mosquitto that lets in only BACKEND_USER, the credential the proxy's rewrite sends."""

    def __init__(self, workdir):
        password_file = os.path.join(workdir, "mosquitto.passwd")
        subprocess.run(["mosquitto_passwd", "-b", "-c", password_file, BACKEND_USER,
                        BACKEND_PASSWORD], check=True, capture_output=True)
        os.chmod(password_file, 0o600)
        super().__init__(workdir, password_file=password_file)


class Aedes(Process):
    def __init__(self, workdir):
        self.port = free_port()
        super().__init__("aedes", ["node", os.path.join(HERE, "aedes_broker.js"), str(self.port)],
                         workdir)

    def start(self):
        super().start()
        wait_port(self.port, proc=self.proc)
        return self


class RabbitMq(Process):
    """A private RabbitMQ node with rabbitmq_mqtt on free loopback ports, its own epmd and
    data under |workdir|. Only BACKEND_USER gets in (anonymous MQTT is off)."""

    def __init__(self, workdir):
        self.port = free_port()
        self.base = os.path.join(workdir, "rabbitmq")
        os.makedirs(self.base, exist_ok=True)
        amqp_port, dist_port, self.epmd_port = free_port(), free_port(), free_port()
        with open(os.path.join(self.base, "rabbitmq.conf"), "w") as f:
            f.write(f"listeners.tcp.default = 127.0.0.1:{amqp_port}\n"
                    f"mqtt.listeners.tcp.default = 127.0.0.1:{self.port}\n"
                    "mqtt.allow_anonymous = false\n"
                    f"default_user = {BACKEND_USER}\n"
                    f"default_pass = {BACKEND_PASSWORD}\n"
                    "loopback_users = none\n")
        with open(os.path.join(self.base, "enabled_plugins"), "w") as f:
            f.write("[rabbitmq_mqtt].\n")
        self.pid_file = os.path.join(self.base, "rabbit.pid")
        self.env = dict(os.environ,
                        HOME=self.base,
                        RABBITMQ_NODENAME=f"compat{self.port}@localhost",
                        RABBITMQ_NODE_IP_ADDRESS="127.0.0.1",
                        RABBITMQ_NODE_PORT=str(amqp_port),
                        RABBITMQ_DIST_PORT=str(dist_port),
                        ERL_EPMD_PORT=str(self.epmd_port),
                        RABBITMQ_CONFIG_FILE=os.path.join(self.base, "rabbitmq.conf"),
                        RABBITMQ_ENABLED_PLUGINS_FILE=os.path.join(self.base, "enabled_plugins"),
                        RABBITMQ_MNESIA_BASE=os.path.join(self.base, "mnesia"),
                        RABBITMQ_LOG_BASE=os.path.join(self.base, "log"),
                        RABBITMQ_PID_FILE=self.pid_file,
                        RABBITMQ_LOGS="-")
        super().__init__("rabbitmq", ["/usr/lib/rabbitmq/bin/rabbitmq-server"], workdir)

    def start(self):
        log = open(self.log_path, "ab")
        self.proc = subprocess.Popen(self.argv, stdout=log, stderr=subprocess.STDOUT,
                                     stdin=subprocess.DEVNULL, env=self.env,
                                     start_new_session=True)
        log.close()
        wait_port(self.port, proc=self.proc, timeout=90)
        return self

    def stop(self, sig=None):
        beam_pid = None
        try:
            with open(self.pid_file) as f:
                beam_pid = int(f.read().strip())
        except (OSError, ValueError):
            pass
        rc = super().stop(sig)
        if beam_pid is not None:
            try:
                os.kill(beam_pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        subprocess.run(["epmd", "-kill"], env=self.env, capture_output=True)
        return rc


class BrokerSpec:
    def __init__(self, code, name, factory, rewrite=None, versions=(3, 4, 5), quick=True,
                 max_qos=2, max_qos_note=""):
        self.code = code          # short, goes into client IDs (MQTT 3.1 allows 23 chars)
        self.name = name
        self.factory = factory
        self.rewrite = rewrite
        self.versions = versions  # protocol levels the broker itself accepts
        self.quick = quick
        self.max_qos = max_qos    # highest QoS the broker implements
        self.max_qos_note = max_qos_note


BACKEND_REWRITE = {"username": BACKEND_USER, "password": BACKEND_PASSWORD}
BROKERS = [
    BrokerSpec("ma", "mosquitto-anonymous", lambda d: Mosquitto(d)),
    BrokerSpec("mp", "mosquitto-password", MosquittoWithPasswordFile, rewrite=BACKEND_REWRITE),
    BrokerSpec("ae", "aedes", Aedes, versions=(3, 4)),
    BrokerSpec("rb", "rabbitmq", RabbitMq, rewrite=BACKEND_REWRITE, versions=(3, 4),
               quick=False, max_qos=1,
               max_qos_note="RabbitMQ 3.10 has no QoS 2: it answers a QoS 2 PUBLISH with PUBACK"),
]


# ---- clients -------------------------------------------------------------------------------

class Credentials:
    def __init__(self, device_id, username, key=None, cert=None, cert_key=None):
        self.device_id = device_id
        self.username = username
        self.key = key
        self.cert = cert
        self.cert_key = cert_key
        self.publisher = None  # a second device for drivers that publish from another process


class ProgramDriver:
    """A client driver program with the shared command line (see the module docstring)."""

    def __init__(self, code, name, versions, argv):
        self.code = code
        self.name = name
        self.versions = versions
        self.argv = argv

    def _command(self, mode, port, ca, creds, version, topic, password=None, username=None,
                 max_qos=2):
        cmd = [*self.argv, mode, "--port", str(port), "--ca", ca, "--id", creds.device_id,
               "--max-qos", str(max_qos),
               "--user", username or creds.username, "--version", str(version), "--topic", topic]
        if creds.cert:
            cmd += ["--cert", creds.cert, "--key", creds.cert_key]
        if password is not None:
            cmd += ["--password", password]
        return cmd

    def scenario(self, port, ca, creds, version, topic, max_qos):
        proc = subprocess.Popen(self._command("scenario", port, ca, creds, version, topic,
                                              password=creds.key, max_qos=max_qos),
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        try:
            stdout, stderr = proc.communicate(timeout=45)
        except subprocess.TimeoutExpired:
            proc.kill()
            stdout, stderr = proc.communicate()
            stderr += " (driver killed after 45 s)"
        results = {}
        for line in stdout.splitlines():
            parts = line.split(" ", 3)
            if len(parts) >= 3 and parts[0] == "RESULT":
                results[parts[1]] = (parts[2], parts[3] if len(parts) > 3 else "")
        if not results or proc.returncode != 0:
            missing = next((f for f in FEATURES if f not in results), "connect")
            results[missing] = ("FAIL", f"driver exited {proc.returncode}: "
                                        f"{stdout[-300:]}{stderr[-300:]}")
        return results

    def start_with_will(self, port, ca, creds, version, topic):
        """Starts a connection with a will on |topic|/will; returns (process, first line)."""
        proc = subprocess.Popen(self._command("will", port, ca, creds, version, topic,
                                              password=creds.key),
                                stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        return proc, read_line(proc, READY_TIMEOUT)

    def refusal(self, port, ca, creds, version, topic, password, username=None):
        out = subprocess.run(self._command("refuse", port, ca, creds, version, topic,
                                           password=password, username=username),
                             capture_output=True, text=True, timeout=30)
        return (out.stdout.strip().splitlines() or [f"no output, exit {out.returncode}: "
                                                    f"{out.stderr[-300:]}"])[-1]


def read_line(proc, timeout):
    """The first line |proc| prints within |timeout| (empty string if none)."""
    lines = queue.Queue()
    threading.Thread(target=lambda: lines.put(proc.stdout.readline()), daemon=True).start()
    try:
        return lines.get(timeout=timeout).strip()
    except queue.Empty:
        return ""


# mosquitto_sub block-buffers its output into a pipe; it is read line by line while it runs.
LINE_BUFFERED = ["stdbuf", "-oL"]


class MosquittoCliDriver:
    """mosquitto_pub / mosquitto_sub: a subscriber process, separate publisher processes."""

    code = "mo"
    name = "mosquitto_pub/sub"
    versions = (3, 4, 5)
    VERSION_FLAG = {3: "mqttv31", 4: "mqttv311", 5: "mqttv5"}
    MESSAGE_FORMAT = "MSG %t %q %r %p"  # how mosquitto_sub prints a message (-F)

    def _common(self, port, ca, creds, version, device_id=None, password=None, username=None):
        args = ["-h", "127.0.0.1", "-p", str(port), "--cafile", ca, "-i",
                device_id or creds.device_id, "-u", username or creds.username,
                "-V", self.VERSION_FLAG[version], "-d"]
        if creds.cert:
            args += ["--cert", creds.cert, "--key", creds.cert_key]
        if password is not None:
            args += ["-P", password]
        return args

    def scenario(self, port, ca, creds, version, topic, max_qos):
        results = {}
        common = self._common(port, ca, creds, version, password=creds.key)
        pub = creds.publisher
        publisher = self._common(port, ca, pub, version, password=pub.key)
        sub = subprocess.Popen([*LINE_BUFFERED, "mosquitto_sub", *common, "-t", topic + "/t/#", "-q", "2",
                                "-C", str(max_qos + 1), "-W", "20", "-F", self.MESSAGE_FORMAT],
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        sub_lines = queue.Queue()
        threading.Thread(target=lambda: [sub_lines.put(l) for l in sub.stdout] and None,
                         daemon=True).start()
        seen = []

        def wait_for(predicate, timeout=READY_TIMEOUT):
            deadline = time.monotonic() + timeout
            for line in seen:
                if predicate(line):
                    return line
            while time.monotonic() < deadline:
                try:
                    line = sub_lines.get(timeout=max(0.01, deadline - time.monotonic())).rstrip()
                except queue.Empty:
                    break
                seen.append(line)
                if predicate(line):
                    return line
            return None

        connack = wait_for(lambda l: "received CONNACK" in l or "Connection error" in l
                           or "Error" in l)
        results["connect"] = ("PASS" if connack and "CONNACK (0)" in connack else "FAIL",
                              connack or "no CONNACK")
        if results["connect"][0] == "FAIL":
            sub.kill()
            sub.wait()
            return results
        suback = wait_for(lambda l: l.startswith("Subscribed"))
        results["subscribe"] = ("PASS" if suback and suback.split(":")[-1].strip() in
                                ("0", "1", "2") else "FAIL", suback or "no SUBACK")
        handshake = {0: "sending PUBLISH", 1: "received PUBACK", 2: "received PUBCOMP"}
        for qos in range(max_qos + 1):
            out = subprocess.run(["mosquitto_pub", *publisher, "-t", f"{topic}/t/q{qos}",
                                  "-m", f"payload-{qos}", "-q", str(qos)],
                                 capture_output=True, text=True, timeout=30)
            acked = out.returncode == 0 and handshake[qos] in out.stdout
            got = wait_for(lambda l: l.startswith(f"MSG {topic}/t/q{qos} ")
                           and l.endswith(f"payload-{qos}"), timeout=5)
            results[f"qos{qos}"] = ("PASS" if acked and got else "FAIL",
                                    f"acked={acked} received={got is not None}"
                                    + (f" rx_qos={got.split()[2]}" if got else "")
                                    + ("" if acked else f" pub: {out.stdout[-200:]}{out.stderr[-200:]}"))
        try:
            sub.wait(timeout=5)
        except subprocess.TimeoutExpired:
            sub.kill()
            sub.wait()
        out = subprocess.run(["mosquitto_pub", *publisher, "-t", topic + "/r", "-m", "kept",
                              "-q", "1", "-r"], capture_output=True, text=True, timeout=30)
        # The retained read also carries the clean-disconnect check: it has a will that must
        # not be published, and -C 1 makes it send DISCONNECT once the message arrived.
        out = subprocess.run(["mosquitto_sub", *common, "-t", topic + "/r", "-q", "1", "-C", "1",
                              "-W", "10", "-F", self.MESSAGE_FORMAT,
                              "--will-topic", topic + "/clean-will", "--will-payload",
                              "must-not-arrive", "--will-qos", "1"],
                             capture_output=True, text=True, timeout=30)
        line = next((l for l in out.stdout.splitlines() if l.startswith("MSG ")), None)
        retained = line is not None and line.split()[3] == "1" and line.endswith(" kept")
        results["retained"] = ("PASS" if retained else "FAIL", line or out.stdout[-200:])
        clean = out.returncode == 0 and "sending DISCONNECT" in out.stdout
        results["disconnect"] = ("PASS" if clean else "FAIL", f"exit={out.returncode}")
        return results

    def start_with_will(self, port, ca, creds, version, topic):
        proc = subprocess.Popen([*LINE_BUFFERED, "mosquitto_sub", *self._common(port, ca, creds, version,
                                                               password=creds.key),
                                 "-t", topic + "/idle", "--will-topic", topic + "/will",
                                 "--will-payload", f"will-{creds.device_id}", "--will-qos", "1"],
                                stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        deadline = time.monotonic() + READY_TIMEOUT
        while time.monotonic() < deadline:
            line = read_line(proc, max(0.01, deadline - time.monotonic()))
            if not line or "received SUBACK" in line:
                return proc, "CONNECTED" if line else ""
            if "Connection error" in line:
                return proc, line
        return proc, ""

    def refusal(self, port, ca, creds, version, topic, password, username=None):
        out = subprocess.run(["mosquitto_pub", *self._common(port, ca, creds, version,
                                                             password=password, username=username),
                              "-t", topic + "/x", "-m", "x"],
                             capture_output=True, text=True, timeout=30)
        connack = next((l for l in out.stdout.splitlines() if "received CONNACK" in l), "")
        error = next((l for l in (out.stderr + out.stdout).splitlines()
                      if "Connection error" in l or "Error:" in l), "")
        return f"{connack.split('received ')[-1]} {error}".strip() or out.stdout[-200:]


def refusal_ok(driver, version, line):
    expected = EXPECTED_REFUSAL[version]
    if isinstance(driver, MosquittoCliDriver):
        return f"CONNACK ({expected})" in line
    parts = line.split()
    return len(parts) >= 2 and parts[0] == "REFUSED" and parts[1] == str(expected)


def make_clients(workdir):
    paho_c = os.path.join(workdir, "paho_c_client")
    subprocess.run(["cc", "-O1", "-Wall", "-o", paho_c, os.path.join(HERE, "paho_c_client.c"),
                    "-lpaho-mqtt3cs"], check=True)
    return [
        ProgramDriver("py", "paho-mqtt-python", (4, 5),
                      ["/usr/bin/python3", os.path.join(HERE, "paho_py_client.py")]),
        MosquittoCliDriver(),
        ProgramDriver("js", "mqtt.js", (4, 5), ["node", os.path.join(HERE, "mqttjs_client.js")]),
        ProgramDriver("pc", "paho-c", (3, 4, 5), [paho_c]),
    ]


# ---- the observer: sees wills and checks none leaked ----------------------------------------

class Observer:
    """A paho subscriber through the proxy that records every message under a prefix."""

    def __init__(self, port, ca, device_id, username, key, prefix):
        self.messages = {}
        self.lock = threading.Condition()
        self.ready = threading.Event()
        self.client = paho.Client(client_id=device_id, protocol=paho.MQTTv311, clean_session=True)
        ctx = ssl.create_default_context(cafile=ca)
        self.client.tls_set_context(ctx)
        self.client.username_pw_set(username, key)
        self.client.on_connect = lambda c, u, f, rc: c.subscribe(prefix + "/#", 1)
        self.client.on_subscribe = lambda *a: self.ready.set()
        self.client.on_message = self._on_message
        self.client.connect("127.0.0.1", port, keepalive=30)
        self.client.loop_start()
        if not self.ready.wait(READY_TIMEOUT):
            raise RuntimeError("observer could not subscribe through the proxy")

    def _on_message(self, client, userdata, message):
        with self.lock:
            self.messages.setdefault(message.topic, []).append(message.payload)
            self.lock.notify_all()

    def wait(self, topic, timeout):
        with self.lock:
            self.lock.wait_for(lambda: topic in self.messages, timeout)
            return self.messages.get(topic)

    def close(self):
        self.client.disconnect()
        self.client.loop_stop()


# ---- one combination -----------------------------------------------------------------------

class Cell:
    def __init__(self, broker, client, version, listener):
        self.broker, self.client, self.version, self.listener = broker, client, version, listener
        self.results = {}  # feature -> (PASS|FAIL|N-A, detail)
        self.note = ""


def run_cell(cell, stack, ca):
    broker, driver, version, listener = cell.broker, cell.client, cell.version, cell.listener
    port = stack["proxy"].token_port if listener == "token" else stack["proxy"].cert_port
    creds = stack["creds"][(driver.code, version, listener, "s")]
    will_creds = stack["creds"][(driver.code, version, listener, "w")]
    topic = f"{stack['prefix']}/{driver.code}{version}{listener[0]}"
    if version not in broker.versions:
        # The proxy forwards the CONNECT unchanged; the broker answers for itself.
        seen = driver.refusal(port, ca, creds, version, topic, creds.key)
        for feature in FEATURES:
            cell.results[feature] = ("N-A", "")
        cell.note = f"broker does not accept MQTT {version}; client reports: {seen}"
        return cell
    cell.results.update(driver.scenario(port, ca, creds, version, topic, broker.max_qos))
    for qos in range(broker.max_qos + 1, 3):
        cell.results[f"qos{qos}"] = ("N-A", broker.max_qos_note)
        cell.note = broker.max_qos_note
    for feature in FEATURES:
        cell.results.setdefault(feature, ("FAIL", "not run (an earlier step failed)"))
    if cell.results["connect"][0] != "PASS":
        return cell
    leaked = stack["observer"].wait(topic + "/clean-will", 0.5)
    if leaked:
        cell.results["disconnect"] = ("FAIL", "will published after a clean DISCONNECT")
    proc, first = driver.start_with_will(port, ca, will_creds, version, topic)
    if first == "CONNECTED":
        time.sleep(0.2)  # the CONNACK is in; let the broker settle the session
        proc.kill()
        proc.wait()
        got = stack["observer"].wait(topic + "/will", 5.0)
        cell.results["will"] = ("PASS" if got else "FAIL",
                                f"will received: {got[0].decode()}" if got else "no will")
    else:
        proc.kill()
        proc.wait()
        cell.results["will"] = ("FAIL", f"will connection: {first or 'no answer'}")
    if listener == "token":
        seen = driver.refusal(port, ca, creds, version, topic, creds.key + "-wrong")
        case = "wrong key"
    else:
        seen = driver.refusal(port, ca, creds, version, topic, None, username="not-the-username")
        case = "username mismatch"
    cell.results["refusal"] = ("PASS" if refusal_ok(driver, version, seen) else "FAIL",
                               f"{case}: {seen}")
    return cell


# ---- the stack -----------------------------------------------------------------------------

def add_devices(redis, pki_dir, workdir, brokers, clients):
    """Token and cert devices for every cell (roles: s scenario, w will, p publisher), one
    certificate bound to every cert device, and an observer per broker."""
    creds = {}
    jobs = []
    cert_devices = []
    for broker in brokers:
        per_broker = {}
        for driver in clients:
            for version in driver.versions:
                for listener in LISTENERS:
                    for role in ("s", "w", "p"):
                        device_id = f"{broker.code}-{driver.code}{version}{listener[0]}{role}"
                        username = "u-" + device_id
                        if listener == "token":
                            key = "k-" + device_id + "-secret"
                            per_broker[(driver.code, version, listener, role)] = \
                                Credentials(device_id, username, key=key)
                            jobs.append(["device", "add", device_id, "--username", username,
                                         "--auth", "token", "--key", key])
                        else:
                            per_broker[(driver.code, version, listener, role)] = \
                                Credentials(device_id, username)
                            cert_devices.append((broker.code, driver.code, version, role))
                            jobs.append(["device", "add", device_id, "--username", username,
                                         "--auth", "cert"])
        for (client, version, listener, role), c in per_broker.items():
            if role == "s":
                c.publisher = per_broker[(client, version, listener, "p")]
        observer = f"{broker.code}-observer"
        per_broker["observer"] = Credentials(observer, "u-" + observer, key="k-observer-secret")
        jobs.append(["device", "add", observer, "--username", "u-" + observer, "--auth", "token",
                     "--key", "k-observer-secret"])
        creds[broker.code] = per_broker
    with concurrent.futures.ThreadPoolExecutor(max_workers=4) as pool:
        list(pool.map(lambda args: authctl(redis, *args), jobs))
    out_dir = os.path.join(workdir, "device-certs")
    cert_id = authctl(redis, "cert", "create", "--ca", pki_dir, "--name", "compat",
                      "--out", out_dir).stdout.split()[0]
    cert_ids = [f"{b}-{c}{v}c{r}" for b, c, v, r in cert_devices]
    authctl(redis, "cert", "bind", cert_id, *cert_ids)
    bundle = os.path.join(out_dir, "compat_certs")
    for per_broker in creds.values():
        for c in per_broker.values():
            if c.key is None:
                c.cert = os.path.join(bundle, "compat.crt")
                c.cert_key = os.path.join(bundle, "compat.key")
    return creds


def start_stack(broker, workdir, pki, redis, creds, run_id, started):
    broker_dir = os.path.join(workdir, broker.name)
    os.makedirs(broker_dir, exist_ok=True)
    backend = broker.factory(broker_dir)
    started.append(backend)
    backend.start()
    # Every test client comes from 127.0.0.1 and each cell makes one refusal on purpose: the
    # per-IP ban threshold is raised so that the refusals do not ban the other cells.
    proxy = MtlsProxy(broker_dir, pki, redis, [backend], rewrite=broker.rewrite, workers=2,
                      auth_failures={"max_per_ip": 100000, "max_per_device": 20,
                                     "window": "1m", "ban": "5m"})
    started.append(proxy)
    proxy.start()
    observer_creds = creds["observer"]
    prefix = f"compat/{run_id}/{broker.code}"
    observer = Observer(proxy.token_port, pki.ca, observer_creds.device_id,
                        observer_creds.username, observer_creds.key, prefix)
    return {"proxy": proxy, "observer": observer, "creds": creds, "prefix": prefix}


# ---- output --------------------------------------------------------------------------------

VERSION_NAME = {3: "3.1", 4: "3.1.1", 5: "5"}


def text_matrix(cells):
    head = f"{'broker':<20} {'client':<18} {'MQTT':<6} {'listener':<9}" + "".join(
        f" {f:<10}" for f in FEATURES)
    lines = [head, "-" * len(head)]
    for c in cells:
        lines.append(f"{c.broker.name:<20} {c.client.name:<18} {VERSION_NAME[c.version]:<6} "
                     f"{c.listener:<9}" + "".join(f" {c.results[f][0]:<10}" for f in FEATURES))
    return "\n".join(lines)


def markdown_matrix(cells):
    lines = ["| broker | client | MQTT | listener | " + " | ".join(FEATURES) + " |",
             "|---|---|---|---|" + "---|" * len(FEATURES)]
    for c in cells:
        lines.append(f"| {c.broker.name} | {c.client.name} | {VERSION_NAME[c.version]} | "
                     f"{c.listener} | " + " | ".join(c.results[f][0] for f in FEATURES) + " |")
    return "\n".join(lines)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="Mosquitto + Aedes only (CI)")
    parser.add_argument("--brokers", help="comma-separated broker names to run")
    parser.add_argument("--markdown", help="write the matrix as Markdown to this file")
    parser.add_argument("--json", help="write every result with its detail to this file")
    parser.add_argument("--jobs", type=int, default=6, help="cells run at the same time")
    parser.add_argument("--keep", action="store_true", help="keep the work folder and logs")
    args = parser.parse_args()

    brokers = [b for b in BROKERS if b.quick or not args.quick]
    if args.brokers:
        wanted = args.brokers.split(",")
        brokers = [b for b in BROKERS if b.name in wanted]
    started_at = time.monotonic()
    workdir = tempfile.mkdtemp(prefix="map-compat-")
    started = []
    observers = []
    cells = []
    try:
        clients = make_clients(workdir)
        pki = Pki(workdir)
        redis = Redis(workdir)
        started.append(redis)
        redis.start()
        creds = add_devices(redis, pki.dir, workdir, brokers, clients)
        run_id = str(int(time.time()))
        stacks = {}
        with concurrent.futures.ThreadPoolExecutor(max_workers=len(brokers)) as pool:
            futures = {b.code: pool.submit(start_stack, b, workdir, pki, redis, creds[b.code],
                                           run_id, started) for b in brokers}
            for code, future in futures.items():
                stacks[code] = future.result()
                observers.append(stacks[code]["observer"])
        print(f"stack ready in {time.monotonic() - started_at:.1f}s", flush=True)
        cells = [Cell(b, c, v, listener) for b in brokers for c in clients for v in c.versions
                 for listener in LISTENERS]
        with concurrent.futures.ThreadPoolExecutor(max_workers=args.jobs) as pool:
            list(pool.map(lambda cell: run_cell(cell, stacks[cell.broker.code], pki.ca), cells))
    finally:
        for o in observers:
            o.close()
        for p in reversed(started):
            p.stop()
    failed = [c for c in cells if any(r[0] == "FAIL" for r in c.results.values())]
    print(text_matrix(cells))
    for c in cells:
        if c.note:
            print(f"note: {c.broker.name} × {c.client.name} MQTT {VERSION_NAME[c.version]} "
                  f"{c.listener}: {c.note}")
    for c in failed:
        for feature, (status, detail) in c.results.items():
            if status == "FAIL":
                print(f"FAIL: {c.broker.name} × {c.client.name} MQTT {VERSION_NAME[c.version]} "
                      f"{c.listener} {feature}: {detail}")
    if failed:
        for p in started:
            print(f"---- {p.name} log (tail) ----\n{p.log()[-3000:]}")
    if args.markdown:
        with open(args.markdown, "w") as f:
            f.write(markdown_matrix(cells) + "\n")
    if args.json:
        with open(args.json, "w") as f:
            json.dump([{"broker": c.broker.name, "client": c.client.name,
                        "mqtt": VERSION_NAME[c.version], "listener": c.listener,
                        "results": c.results, "note": c.note} for c in cells], f, indent=1)
    print(f"{len(cells)} combinations, {len(failed)} with a FAIL, "
          f"{time.monotonic() - started_at:.1f}s")
    if args.keep:
        print(f"work folder kept: {workdir}")
    else:
        shutil.rmtree(workdir, ignore_errors=True)
    return 1 if failed or not cells else 0


if __name__ == "__main__":
    sys.exit(main())
