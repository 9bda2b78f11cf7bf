import pytest

from api.reports.codes import format_code, parse_code
from api.reports.states import TRANSITIONS, STATUSES, can_transition
from api.text import fold, nfc


@pytest.mark.parametrize("typed", ["PA-2026-004512", "pa2026004512", "PA 2026 004512",
                                   "pa-2026-4512", " Pa_2026_004512 ", "PA.2026.004512"])
def test_parse_code(typed):
    assert parse_code(typed) == "PA-2026-004512"


@pytest.mark.parametrize("typed", ["", "PB-2026-004512", "PA-26-004512", "PA-2026-0045123",
                                   "2026004512", "PA-2026-"])
def test_not_codes(typed):
    assert parse_code(typed) is None


def test_format_code():
    assert format_code(2026, 7) == "PA-2026-000007"


@pytest.mark.parametrize("raw,folded", [
    ("Đèn đường HỎNG", "den duong hong"),
    ("  Chùa   Dâu ", "chua dau"),
    ("đường Lý Thái Tổ", "duong ly thai to"),
    ("Nguyễn", "nguyen"),
])
def test_fold(raw, folded):
    assert fold(raw) == folded
    assert fold(nfc(raw)) == fold(__import__("unicodedata").normalize("NFD", raw))


def test_nfc_drops_invisible_controls():
    assert nfc("a\u200bb\x00c\nd") == "abc\nd"


def test_transition_table_is_closed():
    for source, targets in TRANSITIONS.items():
        assert source in STATUSES
        assert targets <= set(STATUSES)
    assert set(TRANSITIONS) == set(STATUSES)
    assert can_transition("new", "routed")
    assert not can_transition("closed", "routed")
    assert not can_transition("new", "resolved")


def test_deadline_text_says_24_00_of_the_day_that_ends():
    from datetime import datetime, timezone
    from api.common.fields import deadline_text
    # 27/11/2026 24:00 in Hà Nội = 27/11 17:00 UTC.
    assert deadline_text(datetime(2026, 11, 27, 17, 0, tzinfo=timezone.utc)) == "24:00 ngày 27/11/2026"
    assert deadline_text(datetime(2026, 11, 27, 2, 30, tzinfo=timezone.utc)) == "09:30 ngày 27/11/2026"
