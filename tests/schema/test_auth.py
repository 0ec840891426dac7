"""Who the viewer is through GraphQL: me, login and logout."""


def test_me_is_null_when_anonymous(anon_gql):
    assert anon_gql.ok("{ me { id } }")["me"] is None


def test_me(gql, user):
    assert gql.ok("{ me { id username email activeTier { id } isPremium } }")["me"] == {
        "id": str(user.pk), "username": "alice", "email": "alice@example.com", "activeTier": None, "isPremium": False,
    }



LOGIN = "mutation($u: String!, $p: String!) { login(username: $u, password: $p) { username } }"


def test_login_then_me_then_logout(anon_gql, user):
    assert anon_gql.ok(LOGIN, {"u": "alice", "p": "pw-alice"})["login"] == {"username": "alice"}
    assert anon_gql.ok("{ me { username } }")["me"] == {"username": "alice"}
    assert anon_gql.ok("mutation { logout }")["logout"] is True
    assert anon_gql.ok("{ me { username } }")["me"] is None


def test_wrong_password_is_an_error_not_a_login(anon_gql, user):
    result = anon_gql(LOGIN, {"u": "alice", "p": "nope"})
    assert result["errors"][0]["message"] == "Incorrect username/password"
    assert anon_gql.ok("{ me { username } }")["me"] is None
