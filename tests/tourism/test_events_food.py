"""GET /api/v1/events (lunar dates resolved per year) and GET /api/v1/food."""


def test_events_in_2026_with_lunar_dates_resolved(tclient):
    resp = tclient.get("/api/v1/events", query_string={"from": "2026-01-01", "to": "2026-12-31"})
    assert resp.status_code == 200
    body = resp.json
    assert (body["from"], body["to"], body["lang"]) == ("2026-01-01", "2026-12-31", "vi")
    by_name = {e["name"]: e for e in body["items"]}
    lim = by_name["Hội Lim"]
    assert (lim["start"], lim["main_day"], lim["end"]) == ("2026-02-28", "2026-03-01", "2026-03-02")
    assert lim["calendar"] == "lunar" and lim["lunar_date"] == {"month": 1, "day": 13, "leap": False}
    assert lim["place"]["name"] == "Đồi Lim" and lim["ward"]["code"]
    assert by_name["Tết Nguyên Đán"]["main_day"] == "2026-02-17"
    assert by_name["Giỗ Tổ Hùng Vương"]["main_day"] == "2026-04-26"
    yen_the = by_name["Lễ hội Yên Thế"]
    assert yen_the["calendar"] == "solar" and yen_the["main_day"] == "2026-03-16"
    assert yen_the["lunar_date"] is None
    starts = [e["start"] for e in body["items"]]
    assert starts == sorted(starts) and len(body["items"]) >= 12


def test_events_across_years_and_in_english(tclient):
    body = tclient.get("/api/v1/events", query_string={
        "from": "2024-01-01", "to": "2025-12-31", "lang": "en"}).json
    lim = [e for e in body["items"] if e["name"] == "Lim Festival"]
    assert [e["main_day"] for e in lim] == ["2024-02-22", "2025-02-10"]
    tet = [e["main_day"] for e in body["items"] if e["name"] == "Lunar New Year (Tet)"]
    assert tet == ["2024-02-10", "2025-01-29"]
    assert lim[0]["name_vi"] == "Hội Lim" and lim[0]["venue"].startswith("Lim hill")


def test_event_that_started_before_the_window_is_included(tclient):
    # Đền Đô festival 2026: 14–16 of the 3rd lunar month = 30 April – 2 May 2026.
    body = tclient.get("/api/v1/events", query_string={"from": "2026-05-02", "to": "2026-05-02"}).json
    assert [e["name"] for e in body["items"]] == ["Lễ hội đền Đô"]
    assert body["items"][0]["start"] == "2026-04-30"


def test_event_range_errors(tclient):
    for params, field in [({"from": "2026-05-01", "to": "2026-04-01"}, "to"),
                          ({"from": "2020-01-01", "to": "2026-01-01"}, "to"),
                          ({"from": "1850-01-01", "to": "1850-02-01"}, "from"),
                          ({"from": "9999-12-31"}, "from")]:
        resp = tclient.get("/api/v1/events", query_string=params)
        assert resp.status_code == 422 and resp.json["code"] == "INVALID_DATE_RANGE"
        assert field in resp.json["errors"]
    bad = tclient.get("/api/v1/events", query_string={"from": "soon"})
    assert bad.status_code == 422 and bad.json["code"] == "VALIDATION_ERROR"


def test_default_window_is_the_next_year(tclient):
    body = tclient.get("/api/v1/events").json
    assert len(body["items"]) >= 12      # every yearly festival falls within 365 days


def test_food_with_where_to_find_it(tclient):
    body = tclient.get("/api/v1/food").json
    assert len(body["items"]) >= 12
    by_name = {f["name"]: f for f in body["items"]}
    phu_the = by_name["Bánh phu thê Đình Bảng"]
    assert phu_the["where"] and {p["name"] for p in phu_the["places"]} == {"Đền Đô", "Đình Bảng"}
    en = tclient.get("/api/v1/food", query_string={"lang": "en", "q": "vai thieu"}).json
    assert [f["name"] for f in en["items"]] == ["Luc Ngan lychees"]
    assert en["items"][0]["season"] == "June - July" and en["items"][0]["places"][0]["name"] == "Chu Market"
    assert tclient.get("/api/v1/food", query_string={"q": "MY CHU"}).json["items"][0]["name"] == "Mỳ Chũ"
