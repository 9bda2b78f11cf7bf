from __future__ import annotations

from flask_smorest import Blueprint
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from api.db import db
from api.reference.models import Category, CategoryGroup
from api.reference.schemas import CategoryTreeOut

blp = Blueprint("categories", __name__, url_prefix="/api/v1/categories",
                description="What citizens can report")


@blp.route("")
@blp.etag
@blp.response(200, CategoryTreeOut)
@blp.doc(security=[])
def list_categories():
    """Groups and their active categories, with names in vi/en, SLA class and extra questions."""
    groups = db.session.scalars(
        select(CategoryGroup).options(selectinload(CategoryGroup.categories))
        .order_by(CategoryGroup.sort)).all()
    return {"groups": [
        {"code": g.code, "name_vi": g.name_vi, "name_en": g.name_en, "icon": g.icon,
         "categories": [c for c in g.categories if c.active]}
        for g in groups]}


def get_active_category(code: str) -> Category | None:
    category = db.session.get(Category, code)
    return category if category is not None and category.active else None
