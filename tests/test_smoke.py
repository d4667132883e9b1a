from tests.conftest import Api


def test_health_and_ready(api: Api) -> None:
    assert api.http.get("/health").json() == {"status": "ok"}
    ready = api.http.get("/ready")
    assert ready.status_code == 200
    assert ready.json()["stores"] == {d: "ok" for d in ("users", "articles", "likes", "comments")}
