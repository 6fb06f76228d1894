"""compose/: Debian's docker-compose accepts docker-compose.yml (with and without the emqx
profile), every file it references exists, the proxy configs it mounts load with
`mqtt-auth-proxy --check-config`, and the Dockerfile builds from the same Debian packages as
scripts/install-deps.sh. There is no Docker engine here: nothing is started."""
import os
import re
import shutil
import subprocess
import tempfile
import unittest

import yaml

from harness import BIN_DIR

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
COMPOSE_DIR = os.path.join(REPO, "compose")
COMPOSE_FILE = os.path.join(COMPOSE_DIR, "docker-compose.yml")
CONFIG_DIR_IN_CONTAINER = "/etc/mqtt-auth-proxy"
CONFIG_IN_CONTAINER = CONFIG_DIR_IN_CONTAINER + "/mqtt-auth-proxy.yaml"


def docker_compose(*args):
    tool = shutil.which("docker-compose")
    if tool is None:
        raise AssertionError("docker-compose is not installed (scripts/install-deps.sh)")
    return subprocess.run([tool, "-f", COMPOSE_FILE, *args], capture_output=True, text=True,
                          cwd=REPO, timeout=120)


def load_compose():
    with open(COMPOSE_FILE) as f:
        return yaml.safe_load(f)


def bind_mounts(service):
    """(host path, container path) of each bind mount, host paths absolute."""
    mounts = []
    for volume in service.get("volumes", []):
        if isinstance(volume, dict):
            if volume.get("type") == "bind":
                mounts.append((volume["source"], volume["target"]))
            continue
        source, target = volume.split(":")[:2]
        if source.startswith((".", "/")):
            mounts.append((os.path.normpath(os.path.join(COMPOSE_DIR, source)), target))
    return mounts


def proxy_services(compose):
    """{service name: host path of the proxy config it mounts}."""
    found = {}
    for name, service in compose["services"].items():
        for source, target in bind_mounts(service):
            if target == CONFIG_IN_CONTAINER:
                found[name] = source
    return found


def tls_paths(config):
    """Every TLS file a proxy config names, as written (relative to its folder)."""
    paths = []
    for listener in config.get("listeners", []):
        paths += [v for k, v in listener.get("tls", {}).items() if k in ("cert", "key", "client_ca", "crl")]
    backend_tls = config.get("backend", {}).get("tls") or {}
    paths += [v for k, v in backend_tls.items() if k in ("ca", "cert", "key")]
    return paths


class ComposeFile(unittest.TestCase):
    def test_config_passes(self):
        result = docker_compose("config", "-q")
        self.assertEqual(result.returncode, 0, result.stderr)

    def test_config_passes_with_emqx_profile(self):
        result = docker_compose("--profile", "emqx", "config", "--services")
        self.assertEqual(result.returncode, 0, result.stderr)
        services = set(result.stdout.split())
        self.assertTrue({"redis", "mosquitto", "proxy", "emqx1", "emqx2", "proxy-emqx"} <= services,
                        services)

    def test_emqx_only_in_its_profile(self):
        # (docker-compose 1.29 lists every service in `config --services`, so read the file.)
        services = load_compose()["services"]
        always = {name for name, service in services.items() if not service.get("profiles")}
        self.assertEqual(always, {"redis", "mosquitto", "proxy"})
        for name in ("emqx1", "emqx2", "proxy-emqx"):
            self.assertEqual(services[name]["profiles"], ["emqx"])

    def test_every_referenced_file_exists(self):
        compose = load_compose()
        checked = 0
        for name, service in compose["services"].items():
            build = service.get("build")
            if build:
                context = os.path.normpath(os.path.join(COMPOSE_DIR, build["context"]))
                self.assertTrue(os.path.isdir(context), f"{name}: build context {context}")
                dockerfile = os.path.join(context, build.get("dockerfile", "Dockerfile"))
                self.assertTrue(os.path.isfile(dockerfile), f"{name}: {dockerfile}")
                checked += 1
            for env_file in service.get("env_file", []):
                path = os.path.normpath(os.path.join(COMPOSE_DIR, env_file))
                self.assertTrue(os.path.isfile(path), f"{name}: env_file {path}")
                checked += 1
            for source, target in bind_mounts(service):
                self.assertTrue(os.path.exists(source), f"{name}: mount source {source}")
                # A file mounted onto a file path, a folder onto a folder.
                looks_like_file = os.path.splitext(target)[1] != ""
                self.assertEqual(os.path.isfile(source), looks_like_file, f"{name}: {source} → {target}")
                checked += 1
        self.assertGreaterEqual(checked, 8)

    def test_proxy_services_and_their_backends(self):
        compose = load_compose()
        proxies = proxy_services(compose)
        self.assertEqual(set(proxies), {"proxy", "proxy-emqx"})
        for name, config_path in proxies.items():
            with open(config_path) as f:
                config = yaml.safe_load(f)
            service = compose["services"][name]
            # Backends and Redis are services of this file, reachable by name.
            for server in config["backend"]["servers"]:
                self.assertIn(server.rsplit(":", 1)[0], compose["services"], f"{name}: {server}")
            self.assertRegex(config["redis"]["url"], r"^redis://redis:6379/")
            # Every TLS file lies inside a folder mounted into the same container.
            targets = [t.rstrip("/") + "/" for _, t in bind_mounts(service)]
            for path in tls_paths(config):
                in_container = os.path.normpath(os.path.join(CONFIG_DIR_IN_CONTAINER, path))
                self.assertTrue(any(in_container.startswith(t) for t in targets),
                                f"{name}: {path} is not under a mounted folder")
            # The metrics endpoint listens beyond loopback so the published port works.
            self.assertTrue(config["metrics"]["bind"].startswith("0.0.0.0:"))
            published = [str(p).rsplit(":", 1)[-1] for p in service.get("ports", [])]
            for port in ("8883", "8884", "9883"):
                self.assertIn(port, published, f"{name} does not publish {port}")

    def test_emqx_proxy_speaks_proxy_protocol_v2_to_emqx_that_expects_it(self):
        with open(os.path.join(COMPOSE_DIR, "mqtt-auth-proxy.emqx.yaml")) as f:
            config = yaml.safe_load(f)
        self.assertEqual(config["backend"]["proxy_protocol"], "v2")
        self.assertEqual(config["backend"]["balance"], "client_id_hash")
        with open(os.path.join(COMPOSE_DIR, "emqx", "emqx.env")) as f:
            env = dict(line.strip().split("=", 1) for line in f
                       if line.strip() and not line.startswith("#"))
        self.assertEqual(env.get("EMQX_LISTENERS__TCP__DEFAULT__PROXY_PROTOCOL"), "true")


class ComposeProxyConfigs(unittest.TestCase):
    """The configs the compose file mounts load in the real proxy (with throwaway TLS files
    in place of compose/certs)."""

    def setUp(self):
        self.proxy = os.path.join(BIN_DIR, "mqtt-auth-proxy")
        self.authctl = os.path.join(BIN_DIR, "mqtt-authctl")
        for binary in (self.proxy, self.authctl):
            if not os.access(binary, os.X_OK):
                self.skipTest(f"{binary} not built")
        self.tmp = tempfile.mkdtemp(prefix="compose-check-")
        self.addCleanup(shutil.rmtree, self.tmp, True)
        ca_dir = os.path.join(self.tmp, "ca")
        certs = os.path.join(self.tmp, "certs")
        self.run_ok([self.authctl, "ca", "init", "--out", ca_dir, "--cn", "compose test CA"])
        self.run_ok([self.authctl, "server-cert", "--ca", ca_dir, "--cn", "localhost",
                     "--out", certs])
        shutil.copy(os.path.join(ca_dir, "root_ca.crt"), certs)

    def run_ok(self, argv):
        result = subprocess.run(argv, capture_output=True, text=True, timeout=60)
        self.assertEqual(result.returncode, 0, f"{argv}: {result.stdout}{result.stderr}")
        return result

    def test_mounted_configs_pass_check_config(self):
        for name, config_path in proxy_services(load_compose()).items():
            with self.subTest(service=name):
                with open(config_path) as f:
                    text = f.read()
                # --check-config resolves backend names; compose service names only resolve
                # inside the compose network, so each becomes its own loopback address (same
                # port). The rest is checked as written (a YAML round trip would turn `off`
                # into `false`).
                servers = yaml.safe_load(text)["backend"]["servers"]
                for i, server in enumerate(servers, start=1):
                    port = server.rsplit(":", 1)[1]
                    text = text.replace(f'"{server}"', f'"127.0.0.{i}:{port}"')
                copy = os.path.join(self.tmp, "mqtt-auth-proxy.yaml")
                with open(copy, "w") as f:
                    f.write(text)
                self.run_ok([self.proxy, "--check-config", copy])


class Dockerfile(unittest.TestCase):
    def setUp(self):
        with open(os.path.join(COMPOSE_DIR, "Dockerfile")) as f:
            self.text = f.read()

    def test_two_bookworm_stages_and_an_unprivileged_user(self):
        self.assertEqual(re.findall(r"^FROM (\S+)", self.text, re.M),
                         ["debian:bookworm-slim", "debian:bookworm-slim"])
        users = re.findall(r"^USER (\S+)", self.text, re.M)
        self.assertEqual(len(users), 1)
        self.assertNotIn(users[0], ("root", "0"))
        self.assertRegex(self.text, r"(?m)^EXPOSE 8883 8884 9883$")
        self.assertIn('ENTRYPOINT ["mqtt-auth-proxy", "--config", '
                      '"/etc/mqtt-auth-proxy/mqtt-auth-proxy.yaml"]', self.text)

    def test_build_stage_uses_the_packages_of_install_deps(self):
        with open(os.path.join(REPO, "scripts", "install-deps.sh")) as f:
            install_deps = set(re.findall(r"[a-z0-9][a-z0-9.+-]*-dev\b", f.read()))
        build_stage = self.text.split("AS runtime")[0]
        dockerfile_dev = set(re.findall(r"[a-z0-9][a-z0-9.+-]*-dev\b", build_stage))
        self.assertEqual(dockerfile_dev, install_deps)
