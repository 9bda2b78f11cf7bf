"""Check a report's answers to its category's extra questions (Open311 attributes)."""
from __future__ import annotations

import math
from datetime import datetime

from api.text import nfc

MAX_STRING = 200
MAX_TEXT = 4000


def _check_one(spec: dict, value) -> tuple[object, str | None]:
    datatype = spec.get("datatype", "string")
    keys = {v["key"] for v in spec.get("values", [])}
    if datatype in ("string", "text"):
        if not isinstance(value, str):
            return None, "phải là chuỗi ký tự"
        value = nfc(value).strip()
        limit = MAX_STRING if datatype == "string" else MAX_TEXT
        return (value, None) if len(value) <= limit else (None, f"tối đa {limit} ký tự")
    if datatype == "number":
        if isinstance(value, bool) or not isinstance(value, (int, float, str)):
            return None, "phải là số"
        try:
            number = float(value)
        except ValueError:
            return None, "phải là số"
        if not math.isfinite(number):
            return None, "phải là số"
        return (int(number) if number.is_integer() else number), None
    if datatype == "datetime":
        if not isinstance(value, str):
            return None, "phải là thời điểm ISO 8601"
        try:
            parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return None, "phải là thời điểm ISO 8601"
        return parsed.isoformat(), None
    if datatype == "singlevaluelist":
        if not isinstance(value, str) or value not in keys:
            return None, f"phải là một trong: {', '.join(sorted(keys))}"
        return value, None
    if datatype == "multivaluelist":
        items = value if isinstance(value, list) else [value]
        if not items or not all(isinstance(v, str) and v in keys for v in items):
            return None, f"chỉ gồm các giá trị: {', '.join(sorted(keys))}"
        return sorted(set(items)), None
    return None, "kiểu dữ liệu không được hỗ trợ"


def validate_attributes(specs: list[dict], answers: dict) -> tuple[dict, dict[str, list[str]]]:
    """Cleaned answers and per-attribute errors (empty when all is well)."""
    by_code = {s["code"]: s for s in specs}
    cleaned, errors = {}, {}
    for code in answers:
        if code not in by_code:
            errors[code] = ["câu hỏi không tồn tại cho loại phản ánh này"]
    for code, spec in by_code.items():
        value = answers.get(code)
        if value is None or value == "" or value == []:
            if spec.get("required"):
                errors[code] = ["bắt buộc"]
            continue
        result, problem = _check_one(spec, value)
        if problem:
            errors[code] = [problem]
        else:
            cleaned[code] = result
    return cleaned, errors
