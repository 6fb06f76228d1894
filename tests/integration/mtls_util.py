"""Helpers for the mutual-TLS, revocation and ban/event integration tests.

Test-only certificate work (expired certificates, exact notAfter, re-issued CNs, CRLs) uses
the `openssl` command-line tool with the test CA's key: the product never links OpenSSL,
but a test may use any real tool to make its inputs.
"""
import datetime
import hashlib
import os
import queue
import socket
import ssl
import subprocess
import threading
import time

import paho.mqtt.client as paho

from harness import (AUTHCTL_BIN, IntegrationTest, Mosquitto, PahoSession, Proxy, Redis, authctl,
                     connack_code, connect_packet, read_packet, wait_until)

PREFIX = "mqttauth:"


# ---- certificates --------------------------------------------------------------------------

def cert_fingerprint(cert_file):
    """cert_id of a PEM certificate: lowercase hex SHA-256 of its DER."""
    with open(cert_file) as f:
        return hashlib.sha256(ssl.PEM_cert_to_DER_cert(f.read())).hexdigest()


def _openssl(*args, cwd=None):
    out = subprocess.run(["openssl", *args], capture_output=True, text=True, cwd=cwd)
    if out.returncode != 0:
        raise RuntimeError(f"openssl {' '.join(args)} failed: {out.stdout}{out.stderr}")
    return out.stdout


def _asn1_time(when):
    return when.astimezone(datetime.timezone.utc).strftime("%Y%m%d%H%M%SZ")


class OpensslCa:
    """`openssl ca` driven with the key of an existing CA folder (root_ca.crt/root_ca.key as
    `mqtt-authctl ca init` writes them): issues client certificates with exact validity
    periods and any CN, revokes certificates and writes CRLs."""

    def __init__(self, ca_dir, workdir):
        self.ca_cert = os.path.join(ca_dir, "root_ca.crt")
        self.ca_key = os.path.join(ca_dir, "root_ca.key")
        self.dir = os.path.join(workdir, "openssl-ca")
        os.makedirs(self.dir, exist_ok=True)
        open(os.path.join(self.dir, "index.txt"), "w").close()
        with open(os.path.join(self.dir, "crlnumber"), "w") as f:
            f.write("01\n")
        self.config = os.path.join(self.dir, "ca.cnf")
        with open(self.config, "w") as f:
            f.write(f"""[ca]
default_ca = test_ca
[test_ca]
dir = {self.dir}
database = $dir/index.txt
new_certs_dir = $dir
crlnumber = $dir/crlnumber
certificate = {self.ca_cert}
private_key = {self.ca_key}
rand_serial = yes
unique_subject = no
default_md = sha256
default_crl_days = 2
policy = policy_any
copy_extensions = none
[policy_any]
commonName = supplied
[client_ext]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = clientAuth
""")
        self._count = 0

    def issue(self, out_dir, name, cn, not_before=-300, not_after=86400):
        """A client certificate and its EC P-256 key in |out_dir|/|name|.crt/.key, valid from
        now + |not_before| to now + |not_after| seconds. Returns (cert_file, key_file)."""
        os.makedirs(out_dir, exist_ok=True)
        key = os.path.join(out_dir, name + ".key")
        csr = os.path.join(self.dir, f"{name}-{self._count}.csr")
        crt = os.path.join(out_dir, name + ".crt")
        self._count += 1
        _openssl("req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
                 "-nodes", "-keyout", key, "-subj", f"/CN={cn}", "-out", csr)
        now = datetime.datetime.now(datetime.timezone.utc)
        _openssl("ca", "-batch", "-config", self.config, "-notext", "-extensions", "client_ext",
                 "-startdate", _asn1_time(now + datetime.timedelta(seconds=not_before)),
                 "-enddate", _asn1_time(now + datetime.timedelta(seconds=not_after)),
                 "-in", csr, "-out", crt)
        return crt, key

    def revoke(self, cert_file):
        _openssl("ca", "-config", self.config, "-revoke", cert_file)

    def write_crl(self, path):
        """Writes the CRL (every certificate revoked so far) atomically to |path|."""
        tmp = path + ".tmp"
        _openssl("ca", "-config", self.config, "-gencrl", "-out", tmp)
        os.replace(tmp, path)


def create_cert(redis, ca_dir, name, out_dir, devices=(), days=None, disabled=False):
    """`mqtt-authctl cert create` (+ `cert bind` to |devices|). Returns (cert_id, bundle dir)."""
    args = ["cert", "create", "--ca", ca_dir, "--name", name, "--out", out_dir]
    if days is not None:
        args += ["--days", str(days)]
    if disabled:
        args.append("--disabled")
    cert_id = authctl(redis, *args).stdout.split()[0]
    if devices:
        authctl(redis, "cert", "bind", cert_id, *devices)
    return cert_id, os.path.join(out_dir, f"{name}_certs")


def register_cert(redis, cert_id, devices, cn="", not_after=0, enabled=True, name=None):
    """Writes cert:<cert_id> and both binding indexes with plain redis-cli, as a platform
    that does not use mqtt-authctl would."""
    redis.cli("HSET", f"{PREFIX}cert:{cert_id}", "name", name or cert_id,
              "enabled", "1" if enabled else "0", "cn", cn, "not_after", str(not_after),
              "created_at", str(int(time.time())))
    for device in devices:
        redis.cli("SADD", f"{PREFIX}cert:{cert_id}:devices", device)
        redis.cli("SADD", f"{PREFIX}device:{device}:certs", cert_id)


# ---- proxy with the extra listener and limit settings -------------------------------------

class MtlsProxy(Proxy):
    """The harness Proxy plus: `cert_identity` and `tls.crl` on the cert listener, and
    `limits.auth_failures` / `limits.connection_rate` maps (dicts of YAML scalars)."""

    def __init__(self, workdir, pki, redis, backends, cert_identity=None, crl=None,
                 auth_failures=None, connection_rate=None, **kwargs):
        super().__init__(workdir, pki, redis, backends, **kwargs)
        with open(self.config_path) as f:
            lines = f.read().split("\n")
        out = []
        for line in lines:
            if line == "    auth: cert" and cert_identity:
                out += [line, f"    cert_identity: {cert_identity}"]
            elif crl and line.startswith("    tls: {") and "client_ca:" in line:
                out.append(line[:-1] + f", crl: {crl}}}")
            elif line.startswith("  max_connect_packet:"):
                out.append(line)
                for section, values in (("auth_failures", auth_failures),
                                        ("connection_rate", connection_rate)):
                    if values:
                        out.append(f"  {section}: {{" +
                                   ", ".join(f"{k}: {v}" for k, v in values.items()) + "}")
            else:
                out.append(line)
        text = "\n".join(out)
        # Fails loudly if the harness changes the lines edited above.
        for wanted, needed in ((f"cert_identity: {cert_identity}", cert_identity),
                               (f"crl: {crl}", crl), ("  auth_failures:", auth_failures),
                               ("  connection_rate:", connection_rate)):
            if needed and wanted not in text:
                raise RuntimeError(f"MtlsProxy could not place '{wanted}' in the harness config")
        with open(self.config_path, "w") as f:
            f.write(text)


# ---- clients -------------------------------------------------------------------------------

def tls_client_context(ca_file, cert_file=None, key_file=None):
    ctx = ssl.create_default_context(cafile=ca_file)
    ctx.check_hostname = False
    if cert_file:
        ctx.load_cert_chain(cert_file, key_file)
    return ctx


class RawSession:
    """One MQTT connection over TLS written byte by byte: CONNECT, then CONNACK code or the
    way the connection failed (TLS alert, close without CONNACK)."""

    def __init__(self, port, ctx, source_address=None):
        self.port = port
        self.ctx = ctx
        self.source_address = source_address
        self.sock = None
        self.tls_error = None  # the ssl.SSLError / OSError that ended the attempt, if any

    def connect(self, client_id, username=None, password=None, version=4, timeout=5.0):
        """Returns the CONNACK return/reason code, or None when the connection failed or
        was closed without one (see tls_error)."""
        try:
            raw = socket.create_connection(("127.0.0.1", self.port), timeout=timeout,
                                           source_address=self.source_address)
            self.sock = self.ctx.wrap_socket(raw, server_hostname="localhost")
            self.sock.sendall(connect_packet(client_id, username, password, version=version))
            return connack_code(read_packet(self.sock))
        except (ssl.SSLError, OSError) as e:
            self.tls_error = e
            return None

    def wait_closed(self, timeout):
        """Reads until the proxy closes; returns (seconds waited, packets received) or
        (None, packets) if still open after |timeout|."""
        start = time.monotonic()
        packets = []
        self.sock.settimeout(timeout)
        try:
            while True:
                packet = read_packet(self.sock)
                if not packet:
                    break
                packets.append(packet)
        except socket.timeout:
            return None, packets
        except (ssl.SSLError, OSError):
            pass
        return time.monotonic() - start, packets

    def close(self):
        if self.sock is not None:
            try:
                self.sock.close()
            except OSError:
                pass


class Session(PahoSession):
    """A paho client (the platform's documented usage) with its loop running; records the
    CONNACK, messages and when the connection was lost. It does not reconnect by itself."""

    def __init__(self, client_id, username, password=None, protocol=paho.MQTTv311,
                 ca_file=None, cert_file=None, key_file=None, documented_tls=False):
        self._setup(client_id, protocol)
        self.disconnected = threading.Event()
        self.disconnected_at = None
        if documented_tls:
            # Word for word what the platform's documentation tells device makers to write.
            self.client.tls_set(ca_certs=ca_file, certfile=cert_file, keyfile=key_file,
                                tls_version=ssl.PROTOCOL_TLSv1_2)
            self.client.tls_insecure_set(True)
        else:
            self.client.tls_set_context(tls_client_context(ca_file, cert_file, key_file))
        if password is None:
            self.client.username_pw_set(username)
        else:
            self.client.username_pw_set(username, password)
        self.client.on_disconnect = self._on_disconnect

    def _on_disconnect(self, client, userdata, rc, properties=None):
        self.disconnected_at = time.monotonic()
        # paho's network thread would reconnect on its own; these tests reconnect explicitly.
        client._thread_terminate = True
        self.disconnected.set()

    def round_trip(self, topic, payload, timeout=5.0):
        """Subscribes to |topic|, publishes |payload| and returns the payload received."""
        self.subscribe(topic)
        self.publish_acked(topic, payload, timeout=timeout)
        return self.messages.get(timeout=timeout).payload


# ---- base test -----------------------------------------------------------------------------

class MtlsTest(IntegrationTest):
    """IntegrationTest with an MtlsProxy stack and cert/raw client helpers."""

    def start_mtls_stack(self, **proxy_kwargs):
        self.redis = self.started(Redis(self.workdir))
        self.broker = self.started(Mosquitto(self.workdir))
        self.backend_port = self.broker.port
        self.proxy = self.started(MtlsProxy(self.workdir, self.pki, self.redis, [self.broker],
                                            **proxy_kwargs))
        self.devices_dir = os.path.join(self.workdir, "devices")

    def new_cert(self, name, devices=(), **kwargs):
        """`cert create` + `cert bind`; returns (cert_id, cert_file, key_file)."""
        cert_id, bundle = create_cert(self.redis, self.pki.dir, name, self.devices_dir,
                                      devices, **kwargs)
        return cert_id, os.path.join(bundle, name + ".crt"), os.path.join(bundle, name + ".key")

    def raw(self, cert_file=None, key_file=None, port=None, source_address=None):
        session = RawSession(port or self.proxy.cert_port,
                             tls_client_context(self.pki.ca, cert_file, key_file),
                             source_address)
        self.addCleanup(session.close)
        return session

    def raw_code(self, client_id, username, password=None, version=4, cert=None, port=None,
                 source_address=None):
        """CONNACK code of one raw attempt (None: TLS failed or closed without CONNACK).
        |cert| is (cert_file, key_file); |port| defaults to the cert listener."""
        session = self.raw(*(cert or (None, None)), port=port, source_address=source_address)
        code = session.connect(client_id, username, password, version)
        session.close()
        return code

    def session(self, client_id, username, password=None, protocol=paho.MQTTv311, cert=None,
                port=None, bind_address="", documented_tls=False, wait=True):
        cert_file, key_file = cert or (None, None)
        s = Session(client_id, username, password, protocol, self.pki.ca, cert_file, key_file,
                    documented_tls)
        self.addCleanup(s.close)
        s.connect(port or (self.proxy.cert_port if cert else self.proxy.token_port),
                  bind_address)
        if wait:
            s.wait_connack()
        return s

    def proxy_log_has(self, text, timeout=2.0):
        return wait_until(lambda: text in self.proxy.log(), timeout)
