"""Who may do what: each role, no token, a wrong token, a revoked one; open only on loopback;
the ``readiness tokens`` commands."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient
from service_support import new_version, record, settings
from typer.testing import CliRunner

from scoring.cli import app as cli
from scoring.errors import ReadinessError
from scoring.service import create_app
from scoring.service.auth import hash_token, role_allows
from scoring.service.settings import is_loopback
from scoring.store import open_store
from scoring.store import queries as q


@pytest.fixture(scope="module")
def registry(tmp_path_factory, trained):
    folder = tmp_path_factory.mktemp("auth-registry")
    return folder, new_version(trained, folder)


@pytest.fixture
def db(tmp_path):
    return f"sqlite:///{tmp_path / 'auth.db'}"


def add_token(db: str, name: str, role: str) -> str:
    """``readiness tokens add``: the token from its output."""
    result = CliRunner().invoke(cli, ["tokens", "add", name, "--role", role, "--db", db])
    assert result.exit_code == 0, result.output
    [token] = re.findall(r"rdy_[A-Za-z0-9_-]{43}", result.output)
    return token


@pytest.fixture
def tokens(db):
    return {
        role: add_token(db, f"{role}-1", role)
        for role in ("viewer", "officer", "manager", "analyst")
    }


@pytest.fixture
def client(registry, db, tokens):
    with TestClient(create_app(settings(registry[0], db))) as client:
        yield client


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def requests(registry):
    """One request per permission: (what, method, path, body)."""
    reference = registry[1]
    return {
        "read": ("get", "/api/v1/batches", None),
        "score": ("post", "/api/v1/score", [record()]),
        "plan": ("post", "/api/v1/what-if", {"record": record(), "changes": {"iso9001": True}}),
        "promote": ("post", "/api/v1/models/promote", {"reference": reference}),
    }


#: What each role may do (each may what the roles before it may).
ALLOWED = {
    "viewer": {"read"},
    "officer": {"read", "score"},
    "manager": {"read", "score", "plan"},
    "analyst": {"read", "score", "plan", "promote"},
}


@pytest.mark.parametrize("role", list(ALLOWED))
def test_each_role_may_do_what_its_rank_allows(client, tokens, registry, role):
    for action, (method, path, body) in requests(registry).items():
        response = client.request(method, path, json=body, headers=bearer(tokens[role]))
        if action in ALLOWED[role]:
            assert response.status_code == 200, (role, action, response.text)
        else:
            assert response.status_code == 403, (role, action, response.text)
            assert response.headers["content-type"] == "application/problem+json"
            assert role in response.json()["detail"]


def test_no_token_and_a_wrong_token_are_refused(client):
    for headers in ({}, bearer("rdy_" + "x" * 43), {"Authorization": "Basic dXNlcjpwYXNz"}):
        response = client.post("/api/v1/score", json=[record()], headers=headers)
        assert response.status_code == 401, headers
        assert response.headers["www-authenticate"] == "Bearer"
        assert response.json()["status"] == 401
    # Health, readiness and metrics answer without a token.
    for path in ("/healthz", "/readyz", "/metrics"):
        assert client.get(path).status_code == 200


def test_a_revoked_token_is_refused_at_once(client, tokens, db):
    assert client.get("/api/v1/batches", headers=bearer(tokens["viewer"])).status_code == 200
    result = CliRunner().invoke(cli, ["tokens", "revoke", "viewer-1", "--db", db])
    assert result.exit_code == 0 and "revoked viewer-1" in result.output
    assert client.get("/api/v1/batches", headers=bearer(tokens["viewer"])).status_code == 401
    assert client.get("/api/v1/batches", headers=bearer(tokens["officer"])).status_code == 200


def test_the_store_keeps_only_hashes_and_list_never_shows_tokens(tokens, db):
    with open_store(db).connect() as conn:
        stored = q.active_tokens(conn)
    assert set(stored) == {hash_token(t) for t in tokens.values()}
    listed = CliRunner().invoke(cli, ["tokens", "list", "--db", db])
    assert listed.exit_code == 0 and "analyst-1" in listed.output
    assert not any(t in listed.output for t in tokens.values())
    taken = CliRunner().invoke(cli, ["tokens", "add", "viewer-1", "--role", "viewer", "--db", db])
    assert taken.exit_code == 1 and "name taken" in taken.output
    unknown = CliRunner().invoke(cli, ["tokens", "revoke", "nobody", "--db", db])
    assert unknown.exit_code == 1 and "no active token named 'nobody'" in unknown.output
    bad_role = CliRunner().invoke(cli, ["tokens", "add", "x", "--role", "admin", "--db", db])
    assert bad_role.exit_code == 2


def test_open_without_tokens_on_loopback_only(registry, db):
    with TestClient(create_app(settings(registry[0], db))) as client:
        assert client.app.state.service.open
        assert client.post("/api/v1/score", json=[record()]).status_code == 200
    with pytest.raises(ReadinessError, match=r"refusing to serve on 0\.0\.0\.0 without tokens"):
        create_app(settings(registry[0], db, host="0.0.0.0"))
    add_token(db, "portal", "officer")
    public = create_app(settings(registry[0], db, host="0.0.0.0"))
    with TestClient(public) as client:
        assert not client.app.state.service.open
        assert client.post("/api/v1/score", json=[record()]).status_code == 401


def test_tokens_added_while_open_are_required_from_then_on(registry, db):
    with TestClient(create_app(settings(registry[0], db))) as client:
        assert client.get("/api/v1/batches").status_code == 200
        token = add_token(db, "late", "viewer")
        assert client.get("/api/v1/batches").status_code == 401
        assert client.get("/api/v1/batches", headers=bearer(token)).status_code == 200


def test_roles_and_loopback_rules():
    assert role_allows("analyst", "viewer") and not role_allows("viewer", "officer")
    assert not role_allows("root", "viewer")
    assert all(is_loopback(h) for h in ("127.0.0.1", "127.5.5.5", "::1", "[::1]", "localhost"))
    assert not any(is_loopback(h) for h in ("0.0.0.0", "10.0.0.1", "::", "example.org"))
