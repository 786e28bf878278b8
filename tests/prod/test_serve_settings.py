"""deploy/serve.py's settings: production refuses to start without real secrets, development makes them
once and every server shares them, and the TLS server block (certificate paths as settings) is one
nginx accepts and answers on."""
from __future__ import annotations

import datetime as dt
import json
import os
import ssl
import subprocess
import urllib.request

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from deploy.serve import NGINX, SECRET_NAMES, Process, Stack, free_port, http_status, secrets_env, wait_until


def test_production_refuses_without_real_secrets(tmp_path):
    with pytest.raises(SystemExit, match="PII_KEY"):
        secrets_env(tmp_path, production=True, environ={"SECRET_KEY": "x", "JWT_SECRET_KEY": "y"})
    assert not (tmp_path / "dev-secrets.json").exists()
    given = {name: f"real-{name}" for name in SECRET_NAMES}
    with pytest.raises(SystemExit, match="KEY_ENCRYPTION_KEY"):  # it encrypts the signing keys in the database
        secrets_env(tmp_path, production=True, environ=given)
    given["KEY_ENCRYPTION_KEY"] = "real-kek"
    assert secrets_env(tmp_path, production=True, environ=given) == given


def test_development_makes_secrets_once_for_every_server(tmp_path):
    first = secrets_env(tmp_path, production=False, environ={})
    assert set(first) == set(SECRET_NAMES)
    assert secrets_env(tmp_path, production=False, environ={}) == first  # a restart signs with the same
    assert json.loads((tmp_path / "dev-secrets.json").read_text()) == first
    assert oct((tmp_path / "dev-secrets.json").stat().st_mode & 0o777) == "0o600"


def _self_signed(folder):
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = dt.datetime.now(dt.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(1).not_valid_before(now - dt.timedelta(days=1)).not_valid_after(now + dt.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost")]), critical=False)
            .sign(key, hashes.SHA256()))
    (folder / "cert.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    (folder / "key.pem").write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                                       serialization.NoEncryption()))
    return folder / "cert.pem", folder / "key.pem"


def test_the_tls_server_block_serves_https_with_hsts(stack, tmp_path):
    """The running stack's app servers behind a second nginx rendered with TLS_CERT/TLS_KEY."""
    cert, key = _self_signed(tmp_path)
    tls = Stack(run_dir=stack.run, database_url=stack.database_url, tls_cert=str(cert), tls_key=str(key))
    tls.ports = stack.ports
    folder, port = tmp_path / "nginx-tls", free_port()
    if os.geteuid() == 0:
        tmp_path.chmod(0o755)
    conf = tls.render_nginx(folder=folder, http_port=port)
    text = conf.read_text()
    assert f"ssl_certificate {cert};" in text and "listen 127.0.0.1:%d ssl" % port in text
    nginx = Process("nginx-tls", [NGINX, "-c", str(conf), "-p", str(folder)], dict(os.environ), folder / "out.log")
    nginx.start()
    try:
        context = ssl.create_default_context(cafile=str(cert))
        url = f"https://localhost:{port}"
        wait_until(lambda: http_status_tls(url + "/api/meta", context) == 200, 20, "nginx with TLS")
        with urllib.request.urlopen(url + "/", context=context, timeout=5) as response:
            assert response.headers["Strict-Transport-Security"] == "max-age=31536000"
            assert "script-src 'self'" in response.headers["Content-Security-Policy"]
        assert http_status(f"http://127.0.0.1:{port}/") == 400  # plain HTTP to the TLS port is refused
    finally:
        nginx.stop()
    assert subprocess.run([NGINX, "-t", "-q", "-c", str(conf), "-p", str(folder)]).returncode == 0


def http_status_tls(url, context):
    with urllib.request.urlopen(url, context=context, timeout=3) as response:
        return response.status
