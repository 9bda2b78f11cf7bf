"""Load reference data: administrative units, categories, units, demo staff.

Every loader is an idempotent upsert, so it can run at every start and after
an upgrade of the source data. Callers own the transaction.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Callable, Iterable

from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from api.identity.models import StaffUser
from api.identity.staff import hash_password
from api.reference.models import Category, CategoryGroup, Province, Unit, Ward
from api.text import fold, nfc

DATA = Path(__file__).parent / "data"
Progress = Callable[[Iterable, str, int], Iterable]


def _no_progress(items: Iterable, _label: str, _total: int) -> Iterable:
    return items


def _chunks(rows: list[dict], size: int) -> Iterable[list[dict]]:
    for start in range(0, len(rows), size):
        yield rows[start:start + size]


def _upsert(session: Session, model, rows: list[dict], keys: list[str],
            progress: Progress = _no_progress, label: str = "", chunk: int = 500) -> int:
    if not rows:
        return 0
    columns = [c for c in rows[0] if c not in keys]
    batches = list(_chunks(rows, chunk))
    for batch in progress(batches, label, len(batches)):
        stmt = insert(model).values(batch)
        stmt = stmt.on_conflict_do_update(index_elements=keys,
                                          set_={c: stmt.excluded[c] for c in columns})
        session.execute(stmt)
    return len(rows)


def load_admin_units(session: Session, progress: Progress = _no_progress) -> tuple[int, int]:
    """All 34 provinces and 3,321 communes/wards with centroids (vietnamadminunits)."""
    from vietnamadminunits.database import get_data
    records = get_data(["provinceCode", "province", "provinceShort", "provinceLat", "provinceLon",
                        "wardCode", "ward", "wardShort", "wardType", "wardLat", "wardLon",
                        "wardAreaKm2"])
    provinces = {}
    wards = []
    for r in records:
        provinces[r["provinceCode"]] = dict(
            code=r["provinceCode"], name=nfc(r["province"]), name_short=nfc(r["provinceShort"]),
            lat=r["provinceLat"], lon=r["provinceLon"])
        wards.append(dict(
            code=r["wardCode"], province_code=r["provinceCode"], name=nfc(r["ward"]),
            name_short=nfc(r["wardShort"]), kind=nfc(r["wardType"]), name_folded=fold(r["ward"]),
            lat=r["wardLat"], lon=r["wardLon"], area_km2=r["wardAreaKm2"]))
    _upsert(session, Province, sorted(provinces.values(), key=lambda p: p["code"]), ["code"])
    _upsert(session, Ward, wards, ["code"], progress, "wards")
    return len(provinces), len(wards)


def _read(name: str) -> dict:
    return json.loads((DATA / name).read_text(encoding="utf-8"))


def load_units(session: Session, province_code: str) -> int:
    """The province's departments, police, IOC and utilities, and one UBND per ward."""
    rows = []
    template = {"code_prefix": "UBND-", "name_vi": "UBND {ward_name}",
                "name_en": "People's Committee of {ward_name_ascii}"}
    for path in sorted(DATA.glob("units_*.json")):
        data = json.loads(path.read_text(encoding="utf-8"))
        if data.get("province_code") != province_code:
            continue
        template = data.get("ward_unit_template", template)
        for u in data["units"]:
            rows.append(dict(code=u["code"], kind=u["kind"], name_vi=nfc(u["name_vi"]),
                             name_en=u["name_en"], short_vi=nfc(u.get("short_vi") or u["name_vi"]),
                             ward_code=None, handles=u.get("handles", []), phone=u.get("phone"),
                             email=u.get("email"), verified=bool(u.get("verified", True)),
                             active=True))
    if not any(r["code"] == "IOC" for r in rows):
        rows.append(dict(code="IOC", kind="ioc", name_vi="Trung tâm Giám sát, điều hành đô thị thông minh",
                         name_en="Intelligent Operations Center", short_vi="IOC", ward_code=None,
                         handles=[], phone=None, email=None, verified=True, active=True))
    wards = session.scalars(select(Ward).where(Ward.province_code == province_code)
                            .order_by(Ward.code)).all()
    for ward in wards:
        ascii_name = fold(ward.name).title()
        rows.append(dict(
            code=f"{template['code_prefix']}{ward.code}", kind="ward",
            name_vi=template["name_vi"].format(ward_name=ward.name, ward_name_ascii=ascii_name),
            name_en=template["name_en"].format(ward_name=ward.name, ward_name_ascii=ascii_name),
            short_vi=f"UBND {ward.name}", ward_code=ward.code, handles=[], phone=None, email=None,
            verified=True, active=True))
    return _upsert(session, Unit, rows, ["code"])


def load_categories(session: Session, *, allow_anonymous_everywhere: bool = False) -> int:
    """The taxonomy. The demo lets every category take anonymous (device) reports."""
    data = _read("categories.json")
    groups = [dict(code=g["code"], name_vi=nfc(g["name_vi"]), name_en=g["name_en"],
                   icon=g.get("icon"), sort=g.get("sort", i))
              for i, g in enumerate(data["groups"])]
    _upsert(session, CategoryGroup, groups, ["code"])
    known_units = set(session.scalars(select(Unit.code)))
    rows = []
    for i, c in enumerate(data["categories"]):
        keywords = [nfc(k) for k in c.get("keywords", [])]
        unit = c.get("default_unit")
        rows.append(dict(
            code=c["code"], group_code=c["group"], name_vi=nfc(c["name_vi"]), name_en=c["name_en"],
            description_vi=nfc(c.get("description_vi") or "") or None,
            description_en=c.get("description_en"), keywords=keywords,
            keywords_folded=" | ".join(fold(k) for k in [c["name_vi"], c["name_en"], *keywords]),
            sla_class=c["sla_class"], default_level=c["default_level"],
            default_unit_code=unit if unit in known_units else None,
            photo_required=bool(c.get("photo_required", True)),
            anonymous_allowed=allow_anonymous_everywhere or bool(c.get("anonymous_allowed", True)),
            open311_keywords=c.get("open311_keywords"),
            # Always a values list, so every attribute has one shape.
            attributes=[{"values": [], **a} for a in c.get("attributes", [])],
            active=True, sort=i))
    return _upsert(session, Category, rows, ["code"])


def load_boundaries(session: Session, geojson: dict, code_property: str = "code") -> int:
    """Ward polygons from a GeoJSON FeatureCollection whose features carry the ward code.

    Invalid rings are repaired (shapely.make_valid); features of unknown wards
    are refused, so a wrong file changes nothing.
    """
    from shapely import make_valid
    from shapely.geometry import mapping, shape
    features = geojson.get("features") if isinstance(geojson, dict) else None
    if not features:
        raise ValueError("expected a GeoJSON FeatureCollection with features")
    wards = {w.code: w for w in session.scalars(select(Ward))}
    updates = []
    for n, feature in enumerate(features):
        code = str((feature.get("properties") or {}).get(code_property, "")).zfill(5)
        if code not in wards:
            raise ValueError(f"feature {n}: unknown ward code {code!r} (property {code_property!r})")
        geometry = make_valid(shape(feature["geometry"]))
        if geometry.geom_type not in ("Polygon", "MultiPolygon") or geometry.is_empty:
            raise ValueError(f"feature {n}: ward {code} needs a Polygon or MultiPolygon")
        updates.append((wards[code], mapping(geometry)))
    for ward, boundary in updates:
        ward.boundary = json.loads(json.dumps(boundary))
    session.flush()
    from api.reference.geo import forget_polygons
    forget_polygons()
    return len(updates)


def load_sla_policies(session: Session) -> int:
    """Version 1 of each class's targets, where the class has no version yet."""
    from api.sla.models import SlaPolicyVersion
    from api.sla.policies import DEFAULT_POLICIES, policy_to_dict
    have = set(session.scalars(select(SlaPolicyVersion.sla_class)))
    added = 0
    for sla_class, policy in DEFAULT_POLICIES.items():
        if sla_class not in have:
            session.add(SlaPolicyVersion(sla_class=sla_class, version=policy.version,
                                         body=policy_to_dict(policy)))
            added += 1
    return added


DEMO_EMAIL_DOMAIN = "bacninh-ioc.test"


def load_demo_staff(session: Session, password: str, progress: Progress = _no_progress) -> int:
    """Admin, dispatcher, and an officer and a unit head for every unit (demo mode only)."""
    password_hash = hash_password(password)  # one hash: the demo password is shared
    rows = [
        dict(email=f"admin@{DEMO_EMAIL_DOMAIN}", full_name="Quản trị hệ thống", role="admin",
             unit_id=None),
        dict(email=f"dispatcher@{DEMO_EMAIL_DOMAIN}", full_name="Điều phối viên IOC",
             role="dispatcher", unit_id=None),
    ]
    units = session.scalars(select(Unit).where(Unit.kind != "ioc").order_by(Unit.id)).all()
    for unit in progress(units, "demo staff", len(units)):
        slug = unit.code.lower()
        rows.append(dict(email=f"officer.{slug}@{DEMO_EMAIL_DOMAIN}",
                         full_name=f"Cán bộ {unit.short_vi or unit.name_vi}", role="officer",
                         unit_id=unit.id))
        rows.append(dict(email=f"head.{slug}@{DEMO_EMAIL_DOMAIN}",
                         full_name=f"Lãnh đạo {unit.short_vi or unit.name_vi}", role="unit_head",
                         unit_id=unit.id))
    for row in rows:
        row.update(password_hash=password_hash, active=True)
    return _upsert(session, StaffUser, rows, ["email"])


def reference_counts(session: Session) -> dict[str, int]:
    from api.sla.models import SlaPolicyVersion
    return {name: session.scalar(select(func.count()).select_from(model))
            for name, model in (("provinces", Province), ("wards", Ward), ("units", Unit),
                                ("categories", Category), ("staff", StaffUser),
                                ("sla_policies", SlaPolicyVersion))}
