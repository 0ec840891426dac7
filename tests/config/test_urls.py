import pytest
from django.test import Client


@pytest.mark.django_db
@pytest.mark.parametrize(("debug", "graphiql"), [(True, True), (False, False)])
def test_graphiql_is_served_in_debug_only(settings, debug, graphiql):
    settings.DEBUG = debug
    response = Client().get("/graphql/", HTTP_ACCEPT="text/html")
    assert (b"graphiql" in response.content.lower()) is graphiql
    if not debug:
        assert response.status_code in {400, 404}
    # Either way the client gets its CSRF cookie for the POSTs that follow.
    assert "csrftoken" in response.cookies


@pytest.mark.django_db
def test_cookie_authenticated_post_without_csrf_token_is_refused(user):
    client = Client(enforce_csrf_checks=True)
    client.force_login(user)
    response = client.post("/graphql/", data='{"query": "mutation { logout }"}', content_type="application/json")
    assert response.status_code == 403
