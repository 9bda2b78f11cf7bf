"""Place search latency with 10,000 places, over HTTP on loopback.

    .venv/bin/python bench/tourism.py [--places 10000] [--requests 2000]

The seed (44 real places) plus generated places: a kind word ("Chùa", "Đình",
"Nhà hàng", …) + a commune or ward name of Vietnam + a suffix, random points in
Bắc Ninh, weekly hours. Queries mix what people type: with and without diacritics,
upper case, English, typos, a kind filter, near + radius, open_now. One client,
keep-alive, gunicorn 2×4, after a warm-up. Target: p95 < 20 ms. Last line: one JSON object.
"""
from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import time
from urllib.parse import urlencode

from sqlalchemy import create_engine, insert, text

from harness import ROOT, Client, Stack, percentile

KINDS = [("pagoda", "Chùa"), ("temple", "Đền"), ("communal_house", "Đình"),
         ("restaurant", "Nhà hàng"), ("restaurant", "Quán"), ("cafe", "Cà phê"),
         ("hotel_homestay", "Khách sạn"), ("hotel_homestay", "Homestay"),
         ("craft_village", "Làng nghề"), ("market", "Chợ"), ("museum", "Nhà truyền thống"),
         ("park_nature", "Công viên")]
SUFFIXES = ["", "", "", " Thượng", " Hạ", " Đông", " Tây", " Cổ", " Mới", " Xanh"]
HOURS = [{"weekly": {d: [["07:00", "11:30"], ["13:30", "21:00"]]
                     for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}},
         {"weekly": {d: [["06:00", "18:00"]] for d in ("tue", "wed", "thu", "fri", "sat", "sun")}},
         {"always_open": True}, None]
QUERIES = {
    "folded": ["chua dau", "den do", "dinh bang", "lang tranh dong ho", "cho chu", "phat tich",
               "khach san", "nha hang tien du"],
    "diacritics": ["Chùa Dâu", "Đền Bà Chúa Kho", "Chùa Bút Tháp", "Làng gốm Phù Lãng",
                   "Hồ Khuôn Thần", "chùa dâu"],
    "upper": ["CHUA DAU", "DEN DO", "VAN MIEU"],
    "english": ["Dau Pagoda", "Bac Ninh Museum", "Lim Hill", "pottery village"],
    "typo": ["chau dau", "chua dauu", "phat tic", "vinh ngiem", "tay yen tuu"],
    "kind": ["kind=pagoda&q=chua", "kind=restaurant", "kind=museum&kind=market"],
    "near": ["near=21.0337,106.0436&radius=5000", "near=21.186,106.076&radius=3000&q=chua",
             "near=21.28,106.2&radius=10000&kind=restaurant"],
    "open_now": ["open_now=true&q=chua", "open_now=true&near=21.186,106.076&radius=5000"],
}


def generate(n: int, ward_names: list[str], rng: random.Random) -> list[dict]:
    from api.tourism.editing import place_search_columns
    rows = []
    for i in range(n):
        kind, word = rng.choice(KINDS)
        name = f"{word} {rng.choice(ward_names)}{rng.choice(SUFFIXES)}"
        row = {"slug": f"bench-{i}", "kind": kind, "name_vi": name,
               "name_en": None, "aliases": [], "tags": [], "tickets": [], "unverified": [],
               "description_vi": f"{name}: địa điểm sinh ra cho phép đo, số {i}.",
               "description_en": None, "address_vi": f"Thôn {rng.choice(ward_names)}",
               "address_en": None, "lat": rng.uniform(21.0, 21.5), "lon": rng.uniform(105.9, 106.9),
               "opening_hours": rng.choice(HOURS), "rating_count": 0, "active": True}
        row.update(place_search_columns(row))
        rows.append(row)
    return rows


def load(stack: Stack, places: int) -> int:
    subprocess.run([sys.executable, "-m", "flask", "--app", "api", "tourism", "load"], cwd=ROOT,
                   env=stack.env, check=True, capture_output=True)
    from api.tourism.models import Place
    engine = create_engine(stack.env["DATABASE_URL"])
    with engine.begin() as conn:
        seeded = conn.execute(text("SELECT count(*) FROM place")).scalar()
        wards = list(conn.execute(text("SELECT name_short FROM ward")).scalars())
        rows = generate(places - seeded, wards, random.Random(24))
        for start in range(0, len(rows), 1000):
            conn.execute(insert(Place), rows[start:start + 1000])
        conn.execute(text("ANALYZE place"))
        total = conn.execute(text("SELECT count(*) FROM place")).scalar()
    engine.dispose()
    return total


def path_for(query: str) -> str:
    if "=" in query:
        return f"/api/v1/places?{query}"
    return "/api/v1/places?" + urlencode({"q": query})


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--places", type=int, default=10_000)
    parser.add_argument("--requests", type=int, default=2000)
    args = parser.parse_args()
    stack = Stack()
    try:
        print(f"==> loading the seed and generating places up to {args.places}", flush=True)
        total = load(stack, args.places)
        port = stack.gunicorn()
        client = Client(port)
        mix = [(group, q) for group, queries in QUERIES.items() for q in queries]
        for _, q in mix * 3:  # warm-up: both workers, every statement planned once
            status, raw = client.request("GET", path_for(q))
            assert status == 200, raw
        rng = random.Random(7)
        by_group: dict[str, list[float]] = {g: [] for g in QUERIES}
        print(f"==> {args.requests} searches over {total} places", flush=True)
        for _ in range(args.requests):
            group, q = rng.choice(mix)
            t0 = time.perf_counter()
            status, raw = client.request("GET", path_for(q))
            by_group[group].append((time.perf_counter() - t0) * 1000)
            assert status == 200, raw
    finally:
        stack.close()
    every = sorted(v for values in by_group.values() for v in values)
    results = {"machine": {"cpus": os.cpu_count()}, "places": total, "requests": len(every),
               "p50_ms": percentile(every, 50), "p95_ms": percentile(every, 95),
               "p99_ms": percentile(every, 99), "max_ms": round(every[-1], 2),
               "by_query": {g: {"p50_ms": percentile(sorted(v), 50),
                                "p95_ms": percentile(sorted(v), 95)}
                            for g, v in by_group.items()}}
    for group, figures in results["by_query"].items():
        print(f"  {group:<10} p50 {figures['p50_ms']:>6} ms  p95 {figures['p95_ms']:>6} ms")
    print(f"search over {total} places: p50 {results['p50_ms']} ms, p95 {results['p95_ms']} ms"
          f" (target < 20 ms), p99 {results['p99_ms']} ms")
    print(json.dumps(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
