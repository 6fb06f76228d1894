"""Our binaries use Debian's Android BoringSSL, never OpenSSL (whose headers and libraries
are also on the build machine): checked on what the dynamic loader resolves, and on the
symbol versions and version strings a linked OpenSSL 3 would leave behind."""
import os
import re
import subprocess
import unittest

from harness import BIN_DIR

BORINGSSL_DIR = "/usr/lib/x86_64-linux-gnu/android/"
TLS_LIBRARY = re.compile(r"^\s*(lib(?:ssl|crypto)\.so[.\d]*)\s*=>\s*(\S+)")


def elf_binaries():
    found = []
    for name in sorted(os.listdir(BIN_DIR)):
        path = os.path.join(BIN_DIR, name)
        if os.path.isfile(path) and os.access(path, os.X_OK):
            with open(path, "rb") as f:
                if f.read(4) == b"\x7fELF":
                    found.append(path)
    return found


def tls_libraries(path):
    """{soname: resolved path} for every libssl/libcrypto the loader would map."""
    out = subprocess.run(["ldd", path], check=True, capture_output=True, text=True).stdout
    return {m.group(1): m.group(2) for m in map(TLS_LIBRARY.match, out.splitlines()) if m}


class NoOpenSsl(unittest.TestCase):
    def test_proxy_is_among_the_checked_binaries(self):
        names = [os.path.basename(p) for p in elf_binaries()]
        self.assertIn("mqtt-auth-proxy", names, f"nothing to check in {BIN_DIR}")

    def test_proxy_links_boringssl_ssl_and_crypto(self):
        libraries = tls_libraries(os.path.join(BIN_DIR, "mqtt-auth-proxy"))
        self.assertEqual(sorted(os.path.basename(p).split(".so")[0] for p in libraries.values()),
                         ["libcrypto", "libssl"])
        for path in libraries.values():
            self.assertTrue(path.startswith(BORINGSSL_DIR), path)

    def test_every_binary_resolves_tls_libraries_to_boringssl_only(self):
        for path in elf_binaries():
            with self.subTest(binary=os.path.basename(path)):
                for soname, resolved in tls_libraries(path).items():
                    self.assertNotRegex(soname, r"\.so\.(1\.1|3)$", "OpenSSL soname")
                    self.assertTrue(resolved.startswith(BORINGSSL_DIR),
                                    f"{soname} resolves to {resolved}")

    def test_no_openssl3_symbol_versions_or_version_string(self):
        for path in elf_binaries():
            with self.subTest(binary=os.path.basename(path)):
                with open(path, "rb") as f:
                    content = f.read()
                self.assertNotIn(b"OPENSSL_3.0", content)
                self.assertNotIn(b"OpenSSL 3.", content)


if __name__ == "__main__":
    unittest.main()
