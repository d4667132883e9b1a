from tests.conftest import Api


def test_health_and_ready(api: Api) -> None:
    assert api.http.get("/health").json() == {"status": "ok"}
    ready = api.http.get("/ready")
    assert ready.status_code == 200
    assert ready.json()["stores"] == {d: "ok" for d in ("users", "articles", "likes", "comments")}


def test_the_root_lists_the_endpoints_and_each_link_answers(api: Api) -> None:
    root = api.http.get("/", headers={"Accept": "application/json"})
    assert root.status_code == 200
    links = {name: link["href"] for name, link in root.json()["links"].items()}
    assert links == {"graphql": "/graphql", "api": "/api", "health": "/health", "ready": "/ready"}
    assert api.http.get(links["health"]).status_code == 200
    assert api.http.get(links["ready"]).status_code == 200
    assert api.http.post(links["graphql"], json={"query": "{ tags }"}).json()["data"] == {
        "tags": []
    }
    assert "articles" in api.http.get(f"{links['api']}/articles").json()


def test_a_browser_at_the_root_is_sent_to_graphiql(api: Api) -> None:
    root = api.http.get(
        "/", headers={"Accept": "text/html,application/xhtml+xml,*/*;q=0.8"}, follow_redirects=False
    )
    assert root.status_code == 307
    assert root.headers["location"] == "/graphql"
    graphiql = api.http.get("/", headers={"Accept": "text/html"})  # followed
    assert graphiql.status_code == 200
    assert "graphiql" in graphiql.text.lower()
