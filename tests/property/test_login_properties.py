"""Login properties: the fake's logins, tokens and sessions equal a model of FLARE 2.3.12's rules.

The model (reference sections 4, 5 and 10) is written out below, independent of the fake's code:

* ``_cert_login <name>`` is OK exactly when the line splits into two args and ``<name>`` equals the TLS
  peer certificate's CN, character for character (no case folding, no Unicode normalization). OK
  carries a fresh token; REJECT carries none. ``_login`` is always REJECT on a secure server.
* A token is live from its login until ``_logout``, ``server.reset()``, ``restart server``, or until the
  virtual clock shows more than the idle timeout since its last activity. Activity is any command that
  passes the login filter (``_check_session`` does not count).
* With a live token: ``_commands`` always works; ``list_jobs`` (view) works for the four provisioned roles
  (any case: roles are normalized) and is denied for other roles; ``sys_info server`` (operate) works for
  ``project_admin``, for ``org_admin``/``lead`` of the server's org (normalized), and is denied otherwise;
  a certificate without O or role crashes every authorized command with FLARE's TypeError.
* Without a live token: no token → ``not authenticated - no token``; otherwise ``session_inactive``.

Provisioning is slow (RSA keys), so two generated projects are provisioned per module and the examples
are generated over them; certificates for arbitrary subjects reuse one key, so minting one is cheap.
"""

from __future__ import annotations

import random
import re
import unicodedata
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Optional

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import load_pem_private_key
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from hypothesis import event, given, note, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    consumes,
    initialize,
    invariant,
    rule,
    run_state_machine_as_test,
)

from fakeserver import FakeFlareServer
from fakeserver.model.project import ROLES, AdminUser, Project, ProvisionError, Site, validate_project
from fakeserver.provision import UNSTRUCTURED_NAME_OID, _issue_leaf, _Signer, client_ssl_context_from_pem, provision
from flare_api.clock import VirtualClock
from flare_api.transport import Transport
from flare_api.wire import Document, ItemType, join_command_line, split_command_line
from tests.helpers import examples

IDLE_TIMEOUT = 600.0
NO_TOKEN = "not authenticated - no token"
SESSION_INACTIVE = "session_inactive"
VIEW_ROLES = frozenset(ROLES)
UUID_SHAPE = r"^[0-9a-f]{8}-[0-9a-f]{4}-1[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$"


# ----------------------------------------------------------------------------------------------- model
def normalize(value: str) -> str:
    """FLARE's Person normalization: lower-case, whitespace runs collapsed, ends trimmed (reference 10.1)."""
    return " ".join(value.lower().split())


@dataclass(frozen=True)
class Identity:
    """What an admin certificate says: CN, O, unstructuredName (None where the field is absent)."""

    cn: str
    org: Optional[str]
    role: Optional[str]


def model_cert_login(line: str, peer: Optional[Identity]) -> bool:
    """True when FLARE 2.3.12 answers OK to ``line`` from ``peer`` (reference 5.1)."""
    try:
        args = split_command_line(line)
    except ValueError:
        return False
    return len(args) == 2 and args[0] == "_cert_login" and peer is not None and peer.cn == args[1]


def model_right(peer: Identity, right: str, server_org: str) -> str:
    """``allowed``, ``denied`` or ``crash`` for a right under the default policy (reference 10.1, 10.3)."""
    if peer.org is None or peer.role is None:
        return "crash"
    role = normalize(peer.role)
    if role == "super" or role == "project_admin":
        return "allowed"
    if right in ("list_jobs", "check_status"):
        return "allowed" if role in VIEW_ROLES else "denied"
    if right == "sys_info":
        same_org = normalize(peer.org) == normalize(server_org)
        return "allowed" if role in ("org_admin", "lead") and same_org else "denied"
    raise AssertionError(f"the model does not cover {right!r}")


@dataclass
class TokenModel:
    """The model's view of live sessions: token → (identity, last activity) on the virtual clock."""

    idle_timeout: float
    now: float
    sessions: dict[str, tuple[Identity, float]] = field(default_factory=dict)

    def live(self, token: Optional[str]) -> bool:
        if token is None or token not in self.sessions:
            return False
        if self.now - self.sessions[token][1] > self.idle_timeout:
            del self.sessions[token]  # FLARE forgets it; it can never come back
            return False
        return True

    def touch(self, token: str) -> None:
        identity, _ = self.sessions[token]
        self.sessions[token] = (identity, self.now)


# ----------------------------------------------------------------------------------------------- projects
# Admin names stay ASCII (odd case included): a non-ASCII admin name passes the validator but cannot be
# provisioned (see test_every_name_the_validator_accepts_can_be_provisioned). Unicode goes into orgs,
# roles, site names and the made-up certificates below.
_LOCALS = ["admin", "Admin", "ADMIN", "o'brien+ci", "Zoe-Unal", "mixedCase_42", "x.Y-z"]
_DOMAINS = ["example.org", "Example.ORG", "x.io", "Sub.Domain.NET"]
_ORGS = ["nvidia", "NVIDIA", "NVidia  Corp", "Åcme Labs", "組織", "org two", "Org Two"]


def generated_project(seed: int) -> Project:
    """A project with odd-case and Unicode names, orgs and roles, drawn deterministically from ``seed``."""
    rng = random.Random(seed)
    server_org = rng.choice(_ORGS)
    admins: list[AdminUser] = []
    used: set[str] = {"localhost"}
    roles = list(ROLES)
    rng.shuffle(roles)
    while len(admins) < 3:
        name = f"{rng.choice(_LOCALS)}@{rng.choice(_DOMAINS)}"
        if name.casefold() in used:
            continue
        used.add(name.casefold())
        role = roles[len(admins)]
        # the server's org in another spelling, or a different org: both matter for "o:site"
        org = rng.choice([server_org.upper(), server_org.lower(), rng.choice(_ORGS)])
        admins.append(AdminUser(name, org, role))
    # every role somewhere, one of them project_admin (restart needs it)
    if not any(a.role == "project_admin" for a in admins):
        admins[0] = AdminUser(admins[0].name, admins[0].org, "project_admin")
    return Project(
        name=f"proj-{seed}",
        server_org=server_org,
        sites=(Site("site-1", server_org), Site("Site-Ünï", "other")),
        admins=tuple(admins),
    )


@given(st.integers(min_value=0, max_value=10_000))
def test_generated_projects_are_provisionable(seed: int) -> None:
    """The generator only makes projects the provisioning validator accepts."""
    validate_project(generated_project(seed))


def test_the_validator_refuses_what_the_generator_avoids() -> None:
    """Names differing only in case clash (one folder namespace), so the generator must avoid them."""
    project = generated_project(1)
    twin = AdminUser(project.admins[0].name.swapcase(), "nvidia", "member")
    with pytest.raises(ProvisionError, match="duplicate name"):
        validate_project(Project(admins=(*project.admins, twin)))


def test_a_name_provision_cannot_put_in_a_certificate_is_refused_by_the_validator(tmp_path: Path) -> None:
    project = Project(admins=(AdminUser("josé@example.org", "nvidia", "project_admin"),))
    with pytest.raises(ProvisionError, match="must be ASCII"):
        validate_project(project)
    with pytest.raises(ProvisionError, match="must be ASCII"):
        provision(project, tmp_path)
    assert not any(tmp_path.iterdir()), "nothing is written for a refused project"


@dataclass
class Provisioned:
    server: FakeFlareServer
    clock: VirtualClock
    key_pem: bytes
    key_path: Path


@pytest.fixture(scope="module")
def projects(tmp_path_factory: pytest.TempPathFactory) -> Any:
    """Two generated projects, provisioned and served over TLS on virtual clocks (started once per module)."""
    running: list[Provisioned] = []
    try:
        for seed in (7, 2024):
            project = generated_project(seed)
            kits = provision(project, tmp_path_factory.mktemp(f"login-{seed}"))
            clock = VirtualClock()
            server = FakeFlareServer(provisioned=kits, clock=clock, idle_timeout=IDLE_TIMEOUT).start()
            key_path = Path(kits.kit(project.admins[0].name)) / "startup" / "client.key"
            running.append(Provisioned(server, clock, key_path.read_bytes(), key_path))
        yield running
    finally:
        for p in running:
            p.server.stop()


def mint(p: Provisioned, identity: Identity) -> Transport:
    """A TLS transport presenting a fresh certificate for ``identity``, signed by the project's CA.

    ASCII names go through ``issue_admin_certificate``; it puts the name in a DNS SAN, which cannot hold
    Unicode, so a Unicode CN is signed here the same way without the SAN (FLARE reads only the subject).
    """
    key = load_pem_private_key(p.key_pem, password=None)
    assert isinstance(key, rsa.RSAPrivateKey)
    provisioned = p.server.provisioned
    if identity.cn.isascii():
        cert_pem, key_pem = provisioned.issue_admin_certificate(
            AdminUser(identity.cn, identity.org or "", identity.role or ""),
            key=key,
            include_org=identity.org is not None,
            include_role=identity.role is not None,
        )
    else:
        subject = [x509.NameAttribute(NameOID.COMMON_NAME, identity.cn)]
        if identity.org is not None:
            subject.append(x509.NameAttribute(NameOID.ORGANIZATION_NAME, identity.org))
        if identity.role is not None:
            subject.append(x509.NameAttribute(UNSTRUCTURED_NAME_OID, identity.role))
        cert = _issue_leaf(_Signer.from_ca(provisioned.ca), key, subject, [], [ExtendedKeyUsageOID.CLIENT_AUTH])
        cert_pem = cert.public_bytes(serialization.Encoding.PEM)
        key_pem = (Path(p.key_path)).read_bytes()
    context = client_ssl_context_from_pem(p.server.provisioned.ca_cert_pem, cert_pem, key_pem)
    host, port = p.server.address
    return Transport(host, port, context, timeout=10.0)


def reply_kind(reply: Optional[Document]) -> str:
    """Classify a reply to an authorized command as the model's ``allowed``/``denied``/``crash``."""
    assert reply is not None
    errors = [item.text for item in reply.of_type(ItemType.ERROR)]
    if reply.meta.get("status") == "not_authorized":
        assert any("is not authorized for" in e for e in errors), reply.to_json()
        return "denied"
    if any(e.startswith("Exception Occurred: TypeError: User ") for e in errors):
        return "crash"
    assert not errors, reply.to_json()
    return "allowed"


# ----------------------------------------------------------------------------------------------- certificates
_text = st.text(st.characters(blacklist_categories=("Cs", "Cc")), min_size=1, max_size=24).filter(
    lambda s: s == s.strip() and '"' not in s and "\\" not in s
)


@st.composite
def identities(draw: st.DrawFn, project: Project) -> Identity:
    """A certificate subject: a project user's, one with a changed role or org, or made up."""
    user = draw(st.sampled_from(project.admins))
    cn = draw(st.one_of(st.just(user.name), _text))
    org = draw(st.one_of(st.none(), st.just(user.org), st.just(project.server_org.swapcase()), _text))
    role_names = list(ROLES) + [r.upper() for r in ROLES] + ["super", "Project_Admin ", "admin"]
    role = draw(st.one_of(st.none(), st.sampled_from(role_names), _text))
    if role is not None:
        role = role.strip() or "member"
    return Identity(cn, org, role)


def claimed_names(cn: str, others: list[str]) -> st.SearchStrategy[str]:
    """User names to claim for a certificate with this CN: equal, nearly equal, or unrelated."""
    near = {
        cn.upper(),
        cn.lower(),
        cn.swapcase(),
        unicodedata.normalize("NFD", cn),
        unicodedata.normalize("NFKC", cn),
        cn + ".",
        cn[:-1] or "x",
    }
    return st.one_of(st.just(cn), st.sampled_from(sorted(near)), st.sampled_from(others), _text)


@settings(max_examples=examples(40))
@given(data=st.data())
def test_cert_login_outcome_equals_the_model(projects: list[Provisioned], data: st.DataObject) -> None:
    """For any certificate and claimed name: OK with a fresh token exactly when the model says so,
    and then exactly the commands the model allows."""
    p = data.draw(st.sampled_from(projects), label="project")
    project = p.server.project
    identity = data.draw(identities(project), label="certificate")
    claimed = data.draw(claimed_names(identity.cn, [a.name for a in project.admins]), label="claimed")
    raw_line = data.draw(st.booleans(), label="FLARE-style unquoted line")
    line = f"_cert_login {claimed}" if raw_line else join_command_line(["_cert_login", claimed])
    transport = mint(p, identity)

    reply = transport.request(line)
    expected = model_cert_login(line, identity)
    assert reply is not None
    strings = [item.text for item in reply.of_type(ItemType.STRING)]
    token_item = reply.first(ItemType.TOKEN)
    note(f"line={line!r} reply={reply.to_json()}")
    event(f"login {'OK' if expected else 'REJECT'}")
    if not expected:
        if not reply.of_type(ItemType.ERROR):  # a line shlex cannot split crashes before the handler
            assert strings == ["REJECT"]
        assert token_item is None
        return
    assert strings == ["OK"] and token_item is not None and isinstance(token_item.data, str)
    assert reply.meta == {}
    assert re.match(UUID_SHAPE, token_item.data)
    token = token_item.data
    commands = transport.request("_commands", token)
    assert commands is not None and commands.first(ItemType.TABLE) is not None
    for command in ("list_jobs", "sys_info server"):
        expected_kind = model_right(identity, command.split()[0], project.server_org)
        event(f"{command}: {expected_kind}")
        assert reply_kind(transport.request(command, token)) == expected_kind
    assert transport.request("_logout", token).first(ItemType.STRING).text == "OK"  # type: ignore[union-attr]


@settings(max_examples=examples(20))
@given(data=st.data())
def test_password_login_is_always_rejected_on_a_secure_server(projects: list[Provisioned], data: st.DataObject) -> None:
    p = data.draw(st.sampled_from(projects))
    user = data.draw(st.sampled_from(p.server.project.admins))
    password = data.draw(st.sampled_from(["admin", user.name, "x"]))
    name = data.draw(st.sampled_from(["admin", user.name]))
    reply = p.server.in_process_transport(user.name).request(join_command_line(["_login", name, password]))
    assert reply is not None
    assert [i.text for i in reply.of_type(ItemType.STRING)] == ["REJECT"] and reply.first(ItemType.TOKEN) is None


# ----------------------------------------------------------------------------------------------- foreign tokens
_foreign_tokens = st.one_of(
    st.uuids(version=1).map(str),
    st.uuids(version=4).map(str),
    st.text(max_size=40),
)


@settings(max_examples=examples(40))
@given(data=st.data())
def test_foreign_and_garbage_tokens_never_open_a_session(projects: list[Provisioned], data: st.DataObject) -> None:
    """A token the server never issued is refused by every command behind the login filter."""
    p = data.draw(st.sampled_from(projects))
    server = p.server
    user = data.draw(st.sampled_from(server.project.admins))
    transport = server.in_process_transport(user.name)
    issued = {s.token for s in server.sessions.all()}
    token = data.draw(_foreign_tokens.filter(lambda t: t not in issued), label="token")
    command = data.draw(st.sampled_from(["list_jobs", "_commands", "_logout", "check_status server"]))
    reply = transport.request(command, token)
    assert reply is not None
    assert [i.text for i in reply.of_type(ItemType.ERROR)] == [SESSION_INACTIVE]
    assert reply.meta == {"status": "error", "info": SESSION_INACTIVE}
    no_token = transport.request(command, None)
    assert no_token is not None and [i.text for i in no_token.of_type(ItemType.ERROR)] == [NO_TOKEN]


# ----------------------------------------------------------------------------------------------- histories
class LoginMachine(RuleBasedStateMachine):
    """Several users log in and out, commands run, time passes, the server resets and restarts.

    After every step the live sessions on the server equal the model's, and each known token's
    ``_check_session`` answer agrees with the model (``_check_session`` does not count as activity).
    """

    server: FakeFlareServer
    clock: VirtualClock

    tokens = Bundle("tokens")

    def __init__(self) -> None:
        super().__init__()
        self.model = TokenModel(IDLE_TIMEOUT, 0.0)
        self.known: list[str] = []

    @initialize()
    def fresh(self) -> None:
        self.server.reset()
        self.model.now = self.clock.time()

    def _transport(self, user: AdminUser) -> Any:
        return self.server.in_process_transport(user.name)

    def _identity(self, user: AdminUser) -> Identity:
        return Identity(user.name, user.org, user.role)

    @rule(target=tokens, user=st.runner().flatmap(lambda m: st.sampled_from(m.server.project.admins)))
    def login(self, user: AdminUser) -> str:
        reply = self._transport(user).request(join_command_line(["_cert_login", user.name]))
        assert reply is not None
        token_item = reply.first(ItemType.TOKEN)
        assert [i.text for i in reply.of_type(ItemType.STRING)] == ["OK"] and token_item is not None
        token = str(token_item.data)
        assert token not in self.known, "a token was issued twice"
        self.known.append(token)
        self.model.sessions[token] = (self._identity(user), self.model.now)
        return token

    @rule(user=st.runner().flatmap(lambda m: st.sampled_from(m.server.project.admins)), other=st.data())
    def login_as_someone_else(self, user: AdminUser, other: st.DataObject) -> None:
        claimed = other.draw(
            st.sampled_from([a.name for a in self.server.project.admins if a.name != user.name] + [user.name.upper()])
        )
        if claimed == user.name:
            return
        reply = self._transport(user).request(join_command_line(["_cert_login", claimed]))
        assert reply is not None and reply.first(ItemType.TOKEN) is None
        assert [i.text for i in reply.of_type(ItemType.STRING)] == ["REJECT"]

    @rule(token=tokens, command=st.sampled_from(["list_jobs", "_commands", "check_status server", "sys_info server"]))
    def command(self, token: str, command: str) -> None:
        identity = self.model.sessions.get(token, (None, 0.0))[0]
        live = self.model.live(token)
        user = self.server.project.admins[0]
        reply = self._transport(user).request(command, token)  # the token, not the certificate, decides
        assert reply is not None
        if not live:
            assert reply.meta == {"status": "error", "info": SESSION_INACTIVE}, reply.to_json()
            return
        assert identity is not None
        self.model.touch(token)
        if command == "_commands":
            assert reply.first(ItemType.TABLE) is not None
            return
        right = command.split()[0]
        assert reply_kind(reply) == model_right(identity, right, self.server.project.server_org)

    @rule(token=consumes(tokens))
    def logout(self, token: str) -> None:
        live = self.model.live(token)
        reply = self._transport(self.server.project.admins[0]).request("_logout", token)
        assert reply is not None
        if live:
            assert [i.text for i in reply.of_type(ItemType.STRING)] == ["OK"] and reply.meta == {}
            del self.model.sessions[token]
        else:
            assert reply.meta == {"status": "error", "info": SESSION_INACTIVE}

    @rule(token=tokens)
    def reuse_after_logout(self, token: str) -> None:
        """Log out twice: the second one finds no session."""
        self.logout(token)
        self.logout(token)

    @rule(seconds=st.sampled_from([0.0, 1.0, IDLE_TIMEOUT / 2, IDLE_TIMEOUT, IDLE_TIMEOUT + 0.5, 2 * IDLE_TIMEOUT]))
    def idle(self, seconds: float) -> None:
        self.model.now = self.clock.advance(seconds)

    @rule()
    def reset(self) -> None:
        self.server.reset()
        self.model.sessions.clear()
        self.model.now = self.clock.time()

    @rule()
    def restart_server(self) -> None:
        admin = next(a for a in self.server.project.admins if a.role == "project_admin")
        token = self.login(admin)
        reply = self._transport(admin).request("restart server", token)
        assert reply is not None and reply.meta.get("status") == "ok", reply.to_json()
        self.model.sessions.clear()

    @rule(token=_foreign_tokens)
    def foreign_token(self, token: str) -> None:
        if token in self.known:
            return
        reply = self._transport(self.server.project.admins[0]).request("list_jobs", token)
        assert reply is not None and reply.meta == {"status": "error", "info": SESSION_INACTIVE}

    @invariant()
    def server_sessions_equal_the_model(self) -> None:
        now = self.clock.time()
        assert now == self.model.now
        server_live = {
            s.token: (s.user_name, s.org, s.role) for s in self.server.sessions.all() if s.idle <= IDLE_TIMEOUT
        }
        model_live = {t: (i.cn, i.org, i.role) for t, (i, _) in list(self.model.sessions.items()) if self.model.live(t)}
        assert server_live == model_live

    @invariant()
    def check_session_agrees(self) -> None:
        for token in self.known[-4:]:
            reply = self._transport(self.server.project.admins[0]).request("_check_session", token)
            assert reply is not None
            if self.model.live(token):
                assert [i.text for i in reply.of_type(ItemType.STRING)] == ["OK"]
            else:
                assert [i.text for i in reply.of_type(ItemType.ERROR)] == [SESSION_INACTIVE]


@pytest.mark.parametrize("index", [0, 1])
def test_login_histories_follow_the_model(projects: list[Provisioned], index: int) -> None:
    """Run the state machine on each provisioned project (the machine class is bound to its server)."""
    p = projects[index]

    class Machine(LoginMachine):
        server = p.server
        clock = p.clock

    run_state_machine_as_test(
        Machine, settings=settings(settings.default, max_examples=examples(15), stateful_step_count=25, deadline=None)
    )


def test_a_token_from_before_reset_stays_dead(projects: list[Provisioned]) -> None:
    server = projects[0].server
    server.reset()
    first, second = server.project.admins[0], server.project.admins[1]
    old = server.in_process_transport(first.name).request(join_command_line(["_cert_login", first.name]))
    assert old is not None and old.first(ItemType.TOKEN) is not None
    old_token = str(old.first(ItemType.TOKEN).data)  # type: ignore[union-attr]
    server.reset()
    new = server.in_process_transport(second.name).request(join_command_line(["_cert_login", second.name]))
    assert new is not None and new.first(ItemType.TOKEN) is not None
    reply = server.in_process_transport(first.name).request("list_jobs", old_token)
    assert reply is not None
    assert reply.meta == {"status": "error", "info": SESSION_INACTIVE}, (
        f"{first.name}'s token from before reset() now acts as {second.name}: {reply.to_json()}"
    )


def test_a_token_from_one_server_is_foreign_to_another(projects: list[Provisioned]) -> None:
    """Sessions are per server: a token issued by the first project's server is unknown to the second."""
    first, second = projects
    first.server.reset()
    second.server.reset()
    user = first.server.project.admins[0]
    reply = first.server.in_process_transport(user.name).request(join_command_line(["_cert_login", user.name]))
    assert reply is not None and reply.first(ItemType.TOKEN) is not None
    token = str(reply.first(ItemType.TOKEN).data)  # type: ignore[union-attr]
    other = second.server.in_process_transport(second.server.project.admins[0].name).request("list_jobs", token)
    assert other is not None and other.meta == {"status": "error", "info": SESSION_INACTIVE}
    assert uuid.UUID(token).version == 1


def test_a_restarted_server_with_a_temporary_workspace_serves_commands() -> None:
    server = FakeFlareServer(secure=False, clock=VirtualClock())
    server.start()
    try:
        server.stop()
        server.start()
        transport = server.in_process_transport(None)
        login = transport.request("_login admin admin")
        assert login is not None and login.first(ItemType.TOKEN) is not None
        reply = transport.request("list_jobs", str(login.first(ItemType.TOKEN).data))  # type: ignore[union-attr]
        assert reply is not None and reply.meta.get("status") == "ok", reply.to_json()
    finally:
        server.stop()
