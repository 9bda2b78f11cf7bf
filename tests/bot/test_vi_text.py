"""The bot's Vietnamese text helpers (bot/components/vi_text.py): folding, shorthand,
the tokenizer's words and offsets, tracking codes, the language guess.

vi_text.py has no Rasa imports, so the API's test run loads it straight from its file
(the bot's own package needs bot/.venv)."""
from __future__ import annotations

import importlib.util
import re
import unicodedata
from pathlib import Path

import pytest

_PATH = Path(__file__).resolve().parents[2] / "bot" / "components" / "vi_text.py"
_spec = importlib.util.spec_from_file_location("bot_vi_text", _PATH)
vi_text = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(vi_text)


def test_module_has_no_rasa_import():
    source = _PATH.read_text(encoding="utf-8")
    assert not re.search(r"^\s*(from|import)\s+rasa", source, re.MULTILINE)


@pytest.mark.parametrize("text, folded", [
    ("Đèn đường hỏng", "den duong hong"),
    ("ĐỀN ĐÔ", "den do"),
    ("Chùa  Phật   Tích ", "chua phat tich"),
    ("Bắc Ninh", "bac ninh"),
    ("ngập úng", "ngap ung"),
    ("den duong hong", "den duong hong"),
])
def test_fold(text, folded):
    assert vi_text.fold(text) == folded
    # Decomposed input (some phone keyboards) folds the same.
    assert vi_text.fold(unicodedata.normalize("NFD", text)) == folded


def test_strip_marks_keeps_case_and_length():
    text = "Hồ sơ PA-2026-004512 đến đâu rồi?"
    stripped = vi_text.strip_marks(text)
    assert stripped == "Ho so PA-2026-004512 den dau roi?"
    assert len(stripped) == len(text)   # offsets of entities stay valid
    assert vi_text.has_marks(text) and not vi_text.has_marks(stripped)


@pytest.mark.parametrize("word, lemma", [
    ("ko", "khong"), ("k", "khong"), ("hok", "khong"), ("khum", "khong"),
    ("dc", "duoc"), ("đc", "duoc"), ("j", "gi"), ("bn", "bao nhieu"),
    ("ntn", "nhu the nao"), ("đg", "duong"), ("sđt", "so dien thoai"), ("ks", "khach san"),
    ("KO", "khong"), ("Đc", "duoc"),
    # Real words that merely fold like shorthand are only folded.
    ("hỏng", "hong"), ("không", "khong"), ("đường", "duong"),
])
def test_fold_word_expands_shorthand(word, lemma):
    assert vi_text.fold_word(word) == lemma


def test_final_only_shorthand():
    assert vi_text.fold_word("v", last=True) == "vay"
    assert vi_text.fold_word("v", last=False) == "v"


def test_normalise_sentences_alike():
    typed = ["Đèn đường không sáng được", "den duong khong sang duoc", "đèn đg ko sáng đc",
             "ĐÈN ĐƯỜNG KHÔNG SÁNG ĐƯỢC"]
    assert {vi_text.normalise(t) for t in typed} == {"den duong khong sang duoc"}
    assert vi_text.normalise("phản ánh ntn") == "phan anh nhu the nao"


@pytest.mark.parametrize("text", [
    "Đèn đg hỏng r, ad ơi!!",
    "mã PA 2026 004512 sao r?",
    "hồ sơ (pa2026004512) đến đâu…",
    "what's open 24/7 near Dau Pagoda? 😀",
    "  chào,bạn  ",
    unicodedata.normalize("NFD", "Đền Đô mở cửa mấy giờ"),
    "xe 99A-123.45 đỗ chắn đường",
])
def test_token_offsets_index_the_original_text(text):
    tokens = vi_text.lemmas(text)
    assert tokens
    for word, start, end, lemma in tokens:
        assert text[start:end] == word
        assert lemma and lemma == lemma.lower()
    starts = [start for _, start, _, _ in tokens]
    assert starts == sorted(starts)


def test_tokens_and_lemmas():
    assert vi_text.lemmas("Đèn đg hỏng r, ad ơi!!") == [
        ("Đèn", 0, 3, "den"), ("đg", 4, 6, "duong"), ("hỏng", 7, 11, "hong"),
        ("r", 12, 13, "roi"), ("ad", 15, 17, "admin"), ("ơi", 18, 20, "oi"),
    ]
    # Punctuation separates words and is dropped; joined codes and numbers stay whole.
    assert [w for w, *_ in vi_text.lemmas("chào,bạn! PA-2026-004512 24/7")] == [
        "chào", "bạn", "PA-2026-004512", "24/7"]
    # Decomposed text: marks stay inside their word.
    nfd = unicodedata.normalize("NFD", "Đền Đô")
    assert [lemma for *_, lemma in vi_text.lemmas(nfd)] == ["den", "do"]
    assert vi_text.lemmas("...") == []


def test_every_word_of_a_code_reads_as_one_lemma():
    for text in ("mã PA 2026 004512 sao rồi", "mã pa2026004512 sao rồi",
                 "mã PA-2026-4512 sao rồi"):
        lemmas = [lemma for *_, lemma in vi_text.lemmas(text)]
        assert lemmas[0] == "ma" and lemmas[-2:] == ["sao", "roi"]
        assert set(lemmas[1:-2]) == {vi_text.CODE_LEMMA}
    assert vi_text.CODE_LEMMA not in [l for *_, l in vi_text.lemmas("gọi 0912345678 nhé")]


@pytest.mark.parametrize("typed, canonical", [
    ("PA-2026-004512", "PA-2026-004512"),
    ("pa2026004512", "PA-2026-004512"),
    ("PA 2026 004512", "PA-2026-004512"),
    ("pa-2026-4512", "PA-2026-004512"),
    ("Pa.2026.000019", "PA-2026-000019"),
    ("PA_2026_12", "PA-2026-000012"),
    ("PA - 2026 - 451", "PA-2026-000451"),
    ("  pA2025999999 ", "PA-2025-999999"),
])
def test_code_forms(typed, canonical):
    assert vi_text.normalise_code(typed) == canonical
    assert vi_text.find_code(f"tra cứu {typed} giúp tôi") == canonical


@pytest.mark.parametrize("text", [
    "PA-26-4512", "PA-2026-0045123", "CPA2026004512", "0912345678", "pa2026", "PAPA2026",
    "DH-2026-004512", "SPA 2026 giảm giá", "PA-2026-", "2026004512", "PX-2026-004512",
])
def test_not_codes(text):
    assert vi_text.normalise_code(text) is None
    assert vi_text.find_code(text) is None
    assert vi_text.code_spans(text) == []


def test_code_spans_in_text():
    text = "hai mã PA-2026-000101 và pa 2026 102."
    spans = vi_text.code_spans(text)
    assert [text[s:e] for s, e in spans] == ["PA-2026-000101", "pa 2026 102"]


def test_code_regex_matches_the_api():
    """The bot and the API accept the same typed forms (api/reports/codes.py)."""
    from api.reports.codes import parse_code
    for typed in ("pa2026004512", "PA 2026 004512", "pa-2026-4512", "PA-26-4512", "PX-2026-1"):
        assert vi_text.normalise_code(typed) == parse_code(typed)


@pytest.mark.parametrize("text, lang", [
    ("Chùa Dâu mở cửa mấy giờ", "vi"),
    ("chua dau mo cua may gio", "vi"),
    ("đèn đg hỏng r", "vi"),
    ("ko dc", "vi"),
    ("cho gap nguoi that", "vi"),
    ("What time does Dau Pagoda open?", "en"),
    ("where can I stay tonight", "en"),
    ("thank you so much", "en"),
    ("is there a festival this weekend", "en"),
    ("", "vi"),
    # Capitalised place names inside English do not make it Vietnamese.
    ("Where is Chùa Dâu?", "en"),
    ("What time does Đền Đô open", "en"),
    ("Đèn đường hỏng", "vi"),
    ("ĐÈN ĐƯỜNG HỎNG", "vi"),
    ("Bắc Ninh có gì", "vi"),
])
def test_detect_language(text, lang):
    assert vi_text.detect_language(text) == lang


@pytest.mark.parametrize("text", ["ok", "PA-2026-000123", "👍", "Đồi Lim", "...", "hellu bot"])
def test_no_language_evidence_keeps_the_conversation_language(text):
    assert vi_text.detect_language(text, default=None) is None
    assert vi_text.detect_language(text) == "vi"


def test_places_yml_is_current():
    """bot/data/nlu/places.yml is what bot/tools/gen_places.py makes from the tourism seed."""
    path = Path(__file__).resolve().parents[2] / "bot" / "tools" / "gen_places.py"
    spec = importlib.util.spec_from_file_location("bot_gen_places", path)
    gen_places = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(gen_places)
    assert gen_places.main(["--check"]) == 0, "run: python bot/tools/gen_places.py"
    text = gen_places.OUT.read_text(encoding="utf-8")
    # Street names stay out of the lookup; the memorial keeps its full name.
    assert "\n    - Ngô Gia Tự\n" not in text and "Khu lưu niệm Ngô Gia Tự" in text
