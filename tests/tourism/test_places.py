"""GET /api/v1/places: search the way people type, nearby, open now, languages, errors."""
import pytest

URL = "/api/v1/places"
CHUA_DAU = "Chùa Dâu"


def names(resp, field="name_vi"):
    assert resp.status_code == 200, resp.json
    return [p[field] for p in resp.json["items"]]


@pytest.mark.parametrize("q", ["chua dau", "Chùa Dâu", "CHUA DAU", "chua dâu", "Dau Pagoda",
                               "dau pagoda", "chùa diên ứng", "Chu\u0300a Da\u0302u"])
def test_diacritics_case_and_english_find_chua_dau_first(tclient, q):
    assert names(tclient.get(URL, query_string={"q": q}))[0] == CHUA_DAU


@pytest.mark.parametrize("q,expected", [
    ("chau dau", CHUA_DAU),               # swapped letters
    ("chua dauu", CHUA_DAU),              # one letter too many
    ("but thap", "Chùa Bút Tháp"),
    ("chùa bút thápp", "Chùa Bút Tháp"),
    ("phat tic", "Chùa Phật Tích"),       # one letter short
    ("den ba chua kho", "Đền Bà Chúa Kho"),
    ("lady of the treasury", "Đền Bà Chúa Kho"),
    ("dong ho", "Làng tranh Đông Hồ"),
    ("vinh nghiem", "Chùa Vĩnh Nghiêm"),
    ("tay yen tu", "Khu du lịch Tây Yên Tử"),
])
def test_typos_and_partial_names(tclient, q, expected):
    assert names(tclient.get(URL, query_string={"q": q}))[0] == expected


def test_name_matches_rank_before_description_matches(tclient):
    # "Đình Bảng" is the name of a communal house and also the address of Đền Đô.
    found = names(tclient.get(URL, query_string={"q": "dinh bang"}))
    assert found[0] == "Đình Bảng"
    assert "Đền Đô" in found and found.index("Đền Đô") > 0
    ranks = tclient.get(URL, query_string={"q": "quan ho"}).json["items"]
    # No name contains "quan ho": description matches still come back.
    assert {"Đồi Lim", "Đền Vua Bà (làng Diềm)"} <= {p["name_vi"] for p in ranks}


def test_words_in_any_field(tclient):
    # Name word + place word, in no single field: every word matches somewhere.
    assert CHUA_DAU in names(tclient.get(URL, query_string={"q": "pagoda thuan thanh"}))


def test_kind_filter_and_unknown_kind(tclient):
    found = tclient.get(URL, query_string={"kind": ["museum", "market"]}).json["items"]
    assert found and {p["kind"] for p in found} == {"museum", "market"}
    bad = tclient.get(URL, query_string={"kind": "casino"})
    assert bad.status_code == 400 and bad.json["code"] == "INVALID_PARAMETER"
    assert "kind" in bad.json["errors"]


def test_tag_filter(tclient):
    found = tclient.get(URL, query_string={"tag": "unesco", "limit": 50}).json["items"]
    assert {"Chùa Vĩnh Nghiêm", "Khu du lịch Tây Yên Tử"} <= {p["name_vi"] for p in found}
    assert all("unesco" in p["tags"] for p in found)


def test_nearby_is_ordered_by_distance(tclient):
    # From Chùa Dâu: Luy Lâu citadel and Chùa Tổ are a few hundred metres away, Bút Tháp
    # a few km, Vĩnh Nghiêm (former Bắc Giang) 30 km.
    resp = tclient.get(URL, query_string={"near": "21.0337,106.0436", "radius": 8000, "limit": 50})
    items = resp.json["items"]
    distances = [p["distance_m"] for p in items]
    assert distances == sorted(distances) and distances[-1] <= 8000
    assert items[0]["name_vi"] == CHUA_DAU and items[0]["distance_m"] == 0
    assert {p["name_vi"] for p in items[1:3]} == {"Thành cổ Luy Lâu", "Chùa Tổ"}
    assert all(p["distance_m"] < 1000 for p in items[1:3])
    assert "Chùa Bút Tháp" in [p["name_vi"] for p in items[3:]]
    assert "Chùa Vĩnh Nghiêm" not in [p["name_vi"] for p in items]
    pagodas = tclient.get(URL, query_string={"near": "21.0337,106.0436", "radius": 8000,
                                             "q": "chua"}).json["items"]
    assert {p["kind"] for p in pagodas[:3]} == {"pagoda"}


@pytest.mark.parametrize("params,code,status", [
    ({"near": "abc"}, "INVALID_PARAMETER", 400),
    ({"near": "21.0"}, "INVALID_PARAMETER", 400),
    ({"near": "91,106"}, "INVALID_PARAMETER", 400),
    ({"near": "nan,nan"}, "INVALID_PARAMETER", 400),
    ({"near": "21,106", "radius": -1}, "VALIDATION_ERROR", 422),
    ({"radius": "far"}, "VALIDATION_ERROR", 422),
    ({"limit": 0}, "VALIDATION_ERROR", 422),
    ({"open_now": "maybe"}, "VALIDATION_ERROR", 422),
    ({"at": "2026-11-24T10:00:00"}, "VALIDATION_ERROR", 422),    # no offset
    ({"q": "x" * 101}, "VALIDATION_ERROR", 422),
    ({"lang": "<script>"}, "VALIDATION_ERROR", 422),
])
def test_bad_parameters_get_the_envelope(tclient, params, code, status):
    resp = tclient.get(URL, query_string=params)
    assert resp.status_code == status, resp.json
    assert resp.json["code"] == code and resp.json["status"] == status


def test_odd_queries_are_not_errors(tclient):
    for q in ["%", "_", "\\", "'", "chùa%dâu", "   ", "a"]:
        assert tclient.get(URL, query_string={"q": q}).status_code == 200


def test_open_now_at_midday_on_a_monday(tclient):
    # Monday 24 Nov 2026 is a Tuesday; 30 Nov is a Monday: museums are closed, pagodas open.
    monday_noon = "2026-11-30T12:00:00+07:00"
    found = tclient.get(URL, query_string={"open_now": "true", "at": monday_noon, "limit": 100})
    kinds = {p["kind"] for p in found.json["items"]}
    assert "museum" not in kinds and "pagoda" in kinds
    assert all(p["open_now"] is True for p in found.json["items"])
    tuesday_noon = tclient.get(URL, query_string={"q": "bao tang bac ninh",
                                                  "at": "2026-12-01T12:00:00+07:00"}).json["items"][0]
    assert tuesday_noon["open_now"] is False
    assert tuesday_noon["opens_at"] == "2026-12-01T13:30:00+07:00"
    morning = tclient.get(URL, query_string={"q": "bao tang bac ninh", "open_now": "true",
                                             "at": "2026-12-01T09:00:00+07:00"}).json["items"]
    assert morning[0]["closes_at"] == "2026-12-01T11:30:00+07:00"


def test_language_and_fallback(tclient):
    en = tclient.get(URL, query_string={"q": "chua dau", "lang": "en"}).json
    assert en["lang"] == "en" and en["items"][0]["name"] == "Dau Pagoda"
    assert en["items"][0]["name_vi"] == CHUA_DAU
    fr = tclient.get(URL, query_string={"q": "chua dau", "lang": "fr"}).json
    assert fr["lang"] == "vi" and fr["items"][0]["name"] == CHUA_DAU
    assert tclient.get(URL, query_string={"q": "chua dau", "lang": "en-GB"}).json["lang"] == "en"


def test_paging(tclient):
    first = tclient.get(URL, query_string={"limit": 10}).json
    second = tclient.get(URL, query_string={"limit": 10, "offset": first["next_offset"]}).json
    assert first["next_offset"] == 10
    assert not {p["id"] for p in first["items"]} & {p["id"] for p in second["items"]}


def test_place_detail(tclient):
    from tests.tourism.conftest import place_id
    pid = place_id(tclient, "Bảo tàng Bắc Ninh")
    resp = tclient.get(f"{URL}/{pid}", query_string={"lang": "en", "at": "2026-11-30T10:00:00+07:00"})
    place = resp.json
    assert resp.status_code == 200 and place["name"] == "Bac Ninh Museum"
    assert place["description"].startswith("The provincial museum")
    assert place["open_now"] is False and place["opens_at"] == "2026-12-01T07:30:00+07:00"
    assert place["opening_hours"]["weekly"]["tue"] == [["07:30", "11:30"], ["13:30", "17:00"]]
    assert "mon" not in place["opening_hours"]["weekly"]
    assert place["opening_hours"]["exceptions"][0]["note"] == "Closed for Lunar New Year"
    assert place["tickets"] == [{"label": "Admission", "price_vnd": 0}]
    assert "tickets" in place["unverified"] and "opening_hours" in place["unverified"]
    assert place["ward"]["code"] and place["photos"] == []


def test_place_detail_lists_its_festivals(tclient):
    from tests.tourism.conftest import place_id
    pid = place_id(tclient, "Đồi Lim")
    place = tclient.get(f"{URL}/{pid}", query_string={"at": "2026-01-10T10:00:00+07:00"}).json
    assert place["events"][0]["name"] == "Hội Lim"
    assert place["events"][0]["main_day"] == "2026-03-01"
    assert place["open_now"] is True and place["closes_at"] is None     # an open hill


def test_unknown_place(tclient):
    resp = tclient.get(f"{URL}/999999")
    assert resp.status_code == 404 and resp.json["code"] == "PLACE_NOT_FOUND"
    assert tclient.get(f"{URL}/abc").json["code"] == "NOT_FOUND"
