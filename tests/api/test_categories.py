def test_category_tree(client):
    r = client.get("/api/v1/categories")
    assert r.status_code == 200
    groups = r.json["groups"]
    assert [g["code"] for g in groups] == ["transport", "lighting", "sanitation", "water",
                                           "urban_order", "trees_parks", "construction", "security"]
    cats = [c for g in groups for c in g["categories"]]
    assert len(cats) >= 25
    for c in cats:
        assert c["name_vi"] and c["name_en"]
        assert c["sla_class"] in ("urgent", "fix_now", "normal", "complex")
        assert c["default_level"] in ("ward", "province")
        assert isinstance(c["photo_required"], bool)
    datatypes = {a["datatype"] for c in cats for a in c["attributes"]}
    assert datatypes == {"string", "number", "datetime", "text", "singlevaluelist", "multivaluelist"}
    assert r.headers["ETag"]
    assert client.get("/api/v1/categories", headers={"If-None-Match": r.headers["ETag"]}).status_code == 304
