"""Tests for fakeserver.provision: kit layout, certificate contents and real mutual-TLS handshakes."""

from __future__ import annotations

import datetime
import json
import os
import re
import socket
import ssl
import stat
import sys
import threading
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from fakeserver.provision import (
    DEFAULT_ADMINS,
    DEFAULT_PROJECT,
    AdminUser,
    Project,
    ProvisionedProject,
    ProvisionError,
    Site,
    UnknownNameError,
    client_ssl_context_from_pem,
    default_authorization,
    issue_admin_certificate,
    new_ca,
    provision,
)

TIMEOUT = 10.0
USERS = [u.name for u in DEFAULT_ADMINS]
STARTUP_FILES = {
    "fed_admin.json",
    "client.crt",
    "client.key",
    "rootCA.pem",
    "client.pfx",
    "fl_admin.sh",
    "readme.txt",
}


@pytest.fixture(scope="module")
def prov(tmp_path_factory: pytest.TempPathFactory) -> ProvisionedProject:
    """One default provisioning shared by the read-only tests (RSA keygen is the slow part)."""
    return provision(DEFAULT_PROJECT, tmp_path_factory.mktemp("ws"))


@pytest.fixture(scope="module")
def foreign(tmp_path_factory: pytest.TempPathFactory) -> ProvisionedProject:
    """A second, independent provisioning: its CA must not be trusted by the first."""
    return provision(DEFAULT_PROJECT, tmp_path_factory.mktemp("foreign"))


def _cert(path: Path) -> x509.Certificate:
    return x509.load_pem_x509_certificate(path.read_bytes())


def _attrs(name: x509.Name, oid: x509.ObjectIdentifier) -> list[str]:
    return [str(a.value) for a in name.get_attributes_for_oid(oid)]


def _validity(cert: x509.Certificate) -> tuple[datetime.datetime, datetime.datetime]:
    """(not_before, not_after) as aware UTC datetimes on old and new cryptography releases."""
    if hasattr(cert, "not_valid_before_utc"):
        return cert.not_valid_before_utc, cert.not_valid_after_utc
    utc = datetime.timezone.utc
    return cert.not_valid_before.replace(tzinfo=utc), cert.not_valid_after.replace(tzinfo=utc)


def _expected_fed_admin(end_point: str) -> dict[str, Any]:
    return {
        "format_version": 1,
        "admin": {
            "with_file_transfer": True,
            "upload_dir": "transfer",
            "download_dir": "transfer",
            "with_login": True,
            "with_ssl": True,
            "cred_type": "cert",
            "client_key": "client.key",
            "client_cert": "client.crt",
            "ca_cert": "rootCA.pem",
            "prompt": "> ",
            "overseer_agent": {
                "path": "nvflare.ha.dummy_overseer_agent.DummyOverseerAgent",
                "args": {"sp_end_point": end_point},
            },
        },
    }


def _strict_client(ctx: ssl.SSLContext) -> ssl.SSLContext:
    """Force Python 3.13's default strictness on every Python version."""
    ctx.verify_flags |= ssl.VERIFY_X509_STRICT
    return ctx


def _handshake(server_ctx: ssl.SSLContext, client_ctx: ssl.SSLContext) -> tuple[dict[str, Any], BaseException | None]:
    """Run one TLS handshake over loopback; return (server outcome, client error or None)."""
    server: dict[str, Any] = {}
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(1)
        listener.settimeout(TIMEOUT)

        def serve() -> None:
            try:
                conn, _ = listener.accept()
                with conn:
                    conn.settimeout(TIMEOUT)
                    with server_ctx.wrap_socket(conn, server_side=True) as tls:
                        server["peer"] = tls.getpeercert()
                        tls.sendall(b"ok")
            except OSError as exc:  # ssl.SSLError is an OSError
                server["error"] = exc

        thread = threading.Thread(target=serve, name="tls-server", daemon=True)
        thread.start()
        client_error: BaseException | None = None
        try:
            raw = socket.create_connection(listener.getsockname(), timeout=TIMEOUT)
            with raw, client_ctx.wrap_socket(raw) as tls:
                if tls.recv(2) != b"ok":
                    client_error = ConnectionError("server closed the connection")
        except OSError as exc:
            client_error = exc
        thread.join(TIMEOUT)
        assert not thread.is_alive(), "server thread did not finish"
    return server, client_error


def _subject(peer: dict[str, Any]) -> dict[str, str]:
    return {key: value for rdn in peer["subject"] for key, value in rdn}


# --- layout ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("user", USERS)
def test_admin_kit_layout(prov: ProvisionedProject, user: str) -> None:
    kit = prov.kit(user)
    assert kit == prov.workspace / user
    assert {p.name for p in kit.iterdir()} == {"startup", "local", "transfer"}
    assert all((kit / d).is_dir() for d in ("startup", "local", "transfer"))
    assert list((kit / "local").iterdir()) == []
    assert {p.name for p in (kit / "startup").iterdir()} == STARTUP_FILES
    assert (kit / "startup" / "rootCA.pem").read_bytes() == prov.ca_cert_pem


@pytest.mark.parametrize("user", USERS)
def test_fed_admin_json(prov: ProvisionedProject, user: str) -> None:
    text = (prov.kit(user) / "startup" / "fed_admin.json").read_text(encoding="utf-8")
    assert json.loads(text) == _expected_fed_admin("127.0.0.1:8002:8003")
    assert text == json.dumps(_expected_fed_admin("127.0.0.1:8002:8003"), indent=2)


@pytest.mark.parametrize("user", USERS)
def test_key_and_pfx(prov: ProvisionedProject, user: str) -> None:
    startup = prov.kit(user) / "startup"
    key_pem = (startup / "client.key").read_bytes()
    assert key_pem.startswith(b"-----BEGIN RSA PRIVATE KEY-----\n")
    key = serialization.load_pem_private_key(key_pem, password=None)
    assert isinstance(key, rsa.RSAPrivateKey)
    assert key.key_size == 2048
    pfx_key, pfx_cert, extra = pkcs12.load_key_and_certificates((startup / "client.pfx").read_bytes(), user.encode())
    assert pfx_cert == _cert(startup / "client.crt")
    assert pfx_key is not None and pfx_key.private_numbers() == key.private_numbers()
    assert extra == []
    with pytest.raises(ValueError):
        pkcs12.load_key_and_certificates((startup / "client.pfx").read_bytes(), b"wrong password")


@pytest.mark.parametrize("user", USERS)
def test_client_key_signs_with_rsa_pss(prov: ProvisionedProject, user: str) -> None:
    """The real nvflare client signs uploaded job folders with client.key using RSA-PSS."""
    startup = prov.kit(user) / "startup"
    key = serialization.load_pem_private_key((startup / "client.key").read_bytes(), password=None)
    assert isinstance(key, rsa.RSAPrivateKey)
    pss = padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=padding.PSS.MAX_LENGTH)
    signature = key.sign(b"job folder", pss, hashes.SHA256())
    public = _cert(startup / "client.crt").public_key()
    assert isinstance(public, rsa.RSAPublicKey)
    public.verify(signature, b"job folder", pss, hashes.SHA256())


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX permission bits")
def test_script_is_executable_and_keys_private(prov: ProvisionedProject) -> None:
    startup = prov.kit("admin@nvidia.com") / "startup"
    script = startup / "fl_admin.sh"
    assert script.stat().st_mode & stat.S_IXUSR
    text = script.read_text(encoding="utf-8")
    assert text.startswith("#!/usr/bin/env bash\n")
    assert 'python3 -m nvflare.fuel.hci.tools.admin -m "$DIR/.." -s fed_admin.json' in text
    assert stat.S_IMODE((startup / "client.key").stat().st_mode) == 0o600
    assert stat.S_IMODE(prov.server_key_path.stat().st_mode) == 0o600


def test_server_kit(prov: ProvisionedProject) -> None:
    server_root = prov.workspace / "localhost"
    assert prov.server_cert_path == server_root / "startup" / "server.crt"
    assert prov.server_key_path == server_root / "startup" / "server.key"
    assert prov.root_ca_path == server_root / "startup" / "rootCA.pem"
    assert {p.name for p in (server_root / "startup").iterdir()} == {"server.crt", "server.key", "rootCA.pem"}
    assert prov.root_ca_path.read_bytes() == prov.ca_cert_pem
    assert prov.server_key_path.read_bytes().startswith(b"-----BEGIN RSA PRIVATE KEY-----\n")
    policy = json.loads((server_root / "local" / "authorization.json.default").read_text(encoding="utf-8"))
    assert policy == default_authorization()
    assert policy["permissions"]["project_admin"] == "any"
    assert policy["permissions"]["member"] == {"view": "any"}
    assert policy["permissions"]["org_admin"]["manage_job"] == "o:submitter"
    assert policy["permissions"]["lead"]["clone_job"] == "n:submitter"


def test_workspace_holds_only_kits_and_no_ca_key(prov: ProvisionedProject) -> None:
    assert {p.name for p in prov.workspace.iterdir()} == {"localhost", *USERS}
    for path in prov.workspace.rglob("*"):
        if path.is_file():
            assert prov.ca.private_key_pem.bytes() not in path.read_bytes()


# --- certificate contents -------------------------------------------------------------------------


@pytest.mark.parametrize("user", DEFAULT_ADMINS, ids=USERS)
def test_admin_certificate_fields(prov: ProvisionedProject, user: AdminUser) -> None:
    cert = _cert(prov.kit(user.name) / "startup" / "client.crt")
    ca = x509.load_pem_x509_certificate(prov.ca_cert_pem)
    assert _attrs(cert.subject, NameOID.COMMON_NAME) == [user.name]
    assert _attrs(cert.subject, NameOID.ORGANIZATION_NAME) == [user.org]
    assert _attrs(cert.subject, x509.ObjectIdentifier("1.2.840.113549.1.9.2")) == [user.role]
    assert cert.issuer == ca.subject
    assert isinstance(cert.signature_hash_algorithm, hashes.SHA256)
    san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert san.get_values_for_type(x509.DNSName) == [user.name]
    ski = cert.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value
    assert ski == x509.SubjectKeyIdentifier.from_public_key(cert.public_key())
    aki = cert.extensions.get_extension_for_class(x509.AuthorityKeyIdentifier).value
    ca_ski = ca.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value
    assert aki.key_identifier == ca_ski.digest
    bc = cert.extensions.get_extension_for_class(x509.BasicConstraints)
    assert bc.critical and not bc.value.ca
    eku = cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    assert ExtendedKeyUsageOID.CLIENT_AUTH in eku
    not_before, not_after = _validity(cert)
    now = datetime.datetime.now(datetime.timezone.utc)
    assert now - datetime.timedelta(days=2) < not_before < now - datetime.timedelta(hours=23)
    assert abs(not_after - (now + datetime.timedelta(days=360))) < datetime.timedelta(hours=1)


def test_ca_and_server_certificate(prov: ProvisionedProject) -> None:
    ca = x509.load_pem_x509_certificate(prov.ca_cert_pem)
    bc = ca.extensions.get_extension_for_class(x509.BasicConstraints)
    assert bc.critical and bc.value.ca
    assert ca.extensions.get_extension_for_class(x509.KeyUsage).value.key_cert_sign
    assert isinstance(ca.public_key(), rsa.RSAPublicKey)
    server = _cert(prov.server_cert_path)
    assert _attrs(server.subject, NameOID.COMMON_NAME) == ["localhost"]
    assert _attrs(server.subject, NameOID.ORGANIZATION_NAME) == ["nvidia"]
    san = server.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert "localhost" in san.get_values_for_type(x509.DNSName)
    assert [str(ip) for ip in san.get_values_for_type(x509.IPAddress)] == ["127.0.0.1"]
    assert server.extensions.get_extension_for_class(x509.AuthorityKeyIdentifier)
    assert server.extensions.get_extension_for_class(x509.SubjectKeyIdentifier)


def test_each_provision_makes_a_new_ca(prov: ProvisionedProject, foreign: ProvisionedProject) -> None:
    assert prov.ca_cert_pem != foreign.ca_cert_pem
    ours, theirs = (x509.load_pem_x509_certificate(p.ca_cert_pem) for p in (prov, foreign))
    assert ours.public_key().public_numbers() != theirs.public_key().public_numbers()  # type: ignore[union-attr]


# --- TLS ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("user", DEFAULT_ADMINS, ids=USERS)
def test_handshake_reports_identity(prov: ProvisionedProject, user: AdminUser) -> None:
    client_ctx = _strict_client(prov.client_ssl_context(user.name))
    assert client_ctx.verify_flags & ssl.VERIFY_X509_STRICT
    server, client_error = _handshake(prov.server_ssl_context(), client_ctx)
    assert "error" not in server, server.get("error")
    assert client_error is None
    assert _subject(server["peer"]) == {
        "commonName": user.name,
        "organizationName": user.org,
        "unstructuredName": user.role,
    }


def test_kit_works_with_default_client_context(prov: ProvisionedProject) -> None:
    """A client built like a stock one: create_default_context (X509_STRICT on 3.13) plus kit files."""
    startup = prov.kit("orgadmin@nvidia.com") / "startup"
    client_ctx = ssl.create_default_context(cafile=str(startup / "rootCA.pem"))
    client_ctx.check_hostname = False
    client_ctx.load_cert_chain(str(startup / "client.crt"), str(startup / "client.key"))
    server, client_error = _handshake(prov.server_ssl_context(), _strict_client(client_ctx))
    assert client_error is None
    assert _subject(server["peer"])["commonName"] == "orgadmin@nvidia.com"


def test_contexts_are_mutual_tls(prov: ProvisionedProject) -> None:
    server_ctx = prov.server_ssl_context()
    assert server_ctx.verify_mode == ssl.CERT_REQUIRED
    assert server_ctx.minimum_version >= ssl.TLSVersion.TLSv1_2
    client_ctx = prov.client_ssl_context("admin@nvidia.com")
    assert client_ctx.verify_mode == ssl.CERT_REQUIRED
    assert client_ctx.check_hostname is False


def test_foreign_client_certificate_is_rejected(prov: ProvisionedProject, foreign: ProvisionedProject) -> None:
    # The foreign client trusts our server's CA but presents a certificate from another CA.
    foreign_startup = foreign.kit("admin@nvidia.com") / "startup"
    client_ctx = client_ssl_context_from_pem(
        prov.ca_cert_pem,
        (foreign_startup / "client.crt").read_bytes(),
        (foreign_startup / "client.key").read_bytes(),
    )
    server, _ = _handshake(prov.server_ssl_context(), _strict_client(client_ctx))
    assert "peer" not in server
    assert isinstance(server.get("error"), ssl.SSLCertVerificationError)


def test_foreign_server_certificate_is_rejected(prov: ProvisionedProject, foreign: ProvisionedProject) -> None:
    _, client_error = _handshake(foreign.server_ssl_context(), prov.client_ssl_context("admin@nvidia.com"))
    assert isinstance(client_error, ssl.SSLCertVerificationError)


def test_certificate_without_org_and_role(prov: ProvisionedProject) -> None:
    user = AdminUser("bare@nvidia.com", "nvidia", "lead")
    cert_pem, key_pem = prov.issue_admin_certificate(user, include_org=False, include_role=False)
    cert = x509.load_pem_x509_certificate(cert_pem)
    assert _attrs(cert.subject, NameOID.ORGANIZATION_NAME) == []
    client_ctx = client_ssl_context_from_pem(prov.ca_cert_pem, cert_pem, key_pem)
    server, client_error = _handshake(prov.server_ssl_context(), client_ctx)
    assert client_error is None
    assert _subject(server["peer"]) == {"commonName": "bare@nvidia.com"}


def test_expired_certificate_is_rejected(prov: ProvisionedProject) -> None:
    now = datetime.datetime.now(datetime.timezone.utc)
    cert_pem, key_pem = issue_admin_certificate(
        prov.ca,
        DEFAULT_ADMINS[0],
        not_before=now - datetime.timedelta(days=10),
        not_after=now - datetime.timedelta(days=1),
    )
    client_ctx = client_ssl_context_from_pem(prov.ca_cert_pem, cert_pem, key_pem)
    server, _ = _handshake(prov.server_ssl_context(), client_ctx)
    assert isinstance(server.get("error"), ssl.SSLCertVerificationError)
    assert "expired" in str(server["error"])


def test_new_ca_certificates_are_not_trusted(prov: ProvisionedProject) -> None:
    cert_pem, key_pem = issue_admin_certificate(new_ca(), DEFAULT_ADMINS[0])
    client_ctx = client_ssl_context_from_pem(prov.ca_cert_pem, cert_pem, key_pem)
    server, _ = _handshake(prov.server_ssl_context(), client_ctx)
    assert isinstance(server.get("error"), ssl.SSLCertVerificationError)


# --- endpoint and re-provisioning -----------------------------------------------------------------


def test_set_endpoint_rewrites_every_kit(tmp_path: Path) -> None:
    result = provision(workspace=tmp_path)
    result.set_endpoint("127.0.0.2", 40123)
    for user in USERS:
        config = json.loads((result.kit(user) / "startup" / "fed_admin.json").read_text(encoding="utf-8"))
        assert config == _expected_fed_admin("127.0.0.2:8002:40123")
    result.set_endpoint("localhost", 40125, fl_port=40124)
    for user in USERS:
        config = json.loads((result.kit(user) / "startup" / "fed_admin.json").read_text(encoding="utf-8"))
        assert config["admin"]["overseer_agent"]["args"]["sp_end_point"] == "localhost:40124:40125"
    assert not [p for p in tmp_path.rglob("*.tmp")]
    with pytest.raises(ProvisionError, match="admin_port"):
        result.set_endpoint("localhost", 0)
    with pytest.raises(ProvisionError, match=re.escape("'::1'")):
        result.set_endpoint("::1", 40125)


def test_reprovision_overwrites_kits_and_keeps_other_files(tmp_path: Path) -> None:
    (tmp_path / "README.md").write_text("keep me", encoding="utf-8")
    first = provision(workspace=tmp_path)
    kit = first.kit("admin@nvidia.com")
    (kit / "startup" / "stale.txt").write_text("old", encoding="utf-8")
    (kit / "transfer" / "download.bin").write_bytes(b"data")
    project = replace(DEFAULT_PROJECT, admins=DEFAULT_ADMINS[:1], admin_port=9003)
    second = provision(project, tmp_path)
    assert second.ca_cert_pem != first.ca_cert_pem
    assert {p.name for p in (kit / "startup").iterdir()} == STARTUP_FILES
    assert (kit / "startup" / "rootCA.pem").read_bytes() == second.ca_cert_pem
    assert (kit / "transfer" / "download.bin").read_bytes() == b"data"
    assert (tmp_path / "README.md").read_text(encoding="utf-8") == "keep me"
    assert dict(second.kits) == {"admin@nvidia.com": kit}
    config = json.loads((kit / "startup" / "fed_admin.json").read_text(encoding="utf-8"))
    assert config["admin"]["overseer_agent"]["args"]["sp_end_point"] == "127.0.0.1:8002:9003"


def test_relative_workspace_is_made_absolute(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    project = replace(DEFAULT_PROJECT, admins=DEFAULT_ADMINS[:1])
    result = provision(project, os.path.join("a", "certs"))
    assert result.workspace == tmp_path / "a" / "certs"
    assert result.kit("admin@nvidia.com").is_absolute()


# --- lookups and validation -----------------------------------------------------------------------


def test_lookups() -> None:
    assert DEFAULT_PROJECT.admin("lead@other.org") == AdminUser("lead@other.org", "other", "lead")
    assert DEFAULT_PROJECT.site("site-2") == Site("site-2", "other")
    with pytest.raises(UnknownNameError, match=r"'nobody@x\.org'.*admin@nvidia\.com") as info:
        DEFAULT_PROJECT.admin("nobody@x.org")
    assert isinstance(info.value, KeyError)
    with pytest.raises(KeyError, match=r"'site-9'.*site-1, site-2"):
        DEFAULT_PROJECT.site("site-9")


def test_unknown_kit(prov: ProvisionedProject) -> None:
    with pytest.raises(KeyError, match=r"'ghost@nvidia\.com'.*member@nvidia\.com"):
        prov.kit("ghost@nvidia.com")
    with pytest.raises(KeyError, match="ghost"):
        prov.client_ssl_context("ghost@nvidia.com")


def _admins(*users: AdminUser) -> tuple[AdminUser, ...]:
    return users


BAD_PROJECTS = [
    (Project(name=""), "project name must not be empty"),
    (Project(server_name="a/b"), "server name 'a/b' contains characters unsafe in a folder name"),
    (Project(server_name=".."), "server name '..' is not usable as a folder name"),
    (Project(server_org=""), "org of server 'localhost' must not be empty"),
    (Project(host=""), "host must not be empty"),
    (Project(host="::1"), "host '::1' must not contain ':'"),
    (Project(admin_port=0), "admin_port must be an integer in 1..65535, got 0"),
    (Project(fl_port=65536), "fl_port must be an integer in 1..65535, got 65536"),
    (Project(fl_port=True), "fl_port must be an integer in 1..65535, got True"),
    (Project(fl_port=9000, admin_port=9000), "fl_port and admin_port must differ, both are 9000"),
    (Project(admins=()), "project defines no admin users"),
    (Project(admins=[DEFAULT_ADMINS[0]]), "admins must be a tuple of AdminUser"),  # type: ignore[arg-type]
    (
        Project(admins=_admins(AdminUser("boss@x.org", "x", "owner"))),
        "unknown role 'owner' for admin 'boss@x.org'",
    ),
    (Project(admins=_admins(AdminUser("", "x", "lead"))), "admin name must not be empty"),
    (
        Project(admins=_admins(AdminUser("..\\evil@x.org", "x", "lead"))),
        "admin name '..\\\\evil@x.org' contains characters unsafe in a folder name",
    ),
    (Project(admins=_admins(AdminUser("..", "x", "lead"))), "admin name '..' is not usable as a folder name"),
    (Project(admins=_admins(AdminUser("bob", "x", "lead"))), "admin name 'bob' is not an email address"),
    (Project(admins=_admins(AdminUser(" a@x.org", "x", "lead"))), "has leading or trailing whitespace"),
    (Project(admins=_admins(AdminUser("a@x.org", "", "lead"))), "org of admin 'a@x.org' must not be empty"),
    (
        Project(admins=_admins(AdminUser("a@x.org", "x", "lead"), AdminUser("A@x.org", "y", "member"))),
        "duplicate name: admin 'A@x.org' clashes with admin 'a@x.org'",
    ),
    (
        Project(server_name="a@x.org", admins=_admins(AdminUser("a@x.org", "x", "lead"))),
        "duplicate name: admin 'a@x.org' clashes with server 'a@x.org'",
    ),
    (
        Project(sites=(Site("site-1", "a"), Site("site-1", "b"))),
        "duplicate name: site 'site-1' clashes with site 'site-1'",
    ),
    (Project(sites=(Site("s/1", "a"),)), "site name 's/1' contains characters unsafe"),
    (Project(admins=_admins(AdminUser("x" * 60 + "@x.org", "x", "lead"))), "is longer than 64 characters"),
]


@pytest.mark.parametrize(("project", "message"), BAD_PROJECTS, ids=[m for _, m in BAD_PROJECTS])
def test_bad_projects_are_rejected(tmp_path: Path, project: Project, message: str) -> None:
    with pytest.raises(ProvisionError, match=re.escape(message)):
        provision(project, tmp_path / "ws")
    assert not (tmp_path / "ws").exists()
