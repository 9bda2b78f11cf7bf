"""Vietnamese text as citizens type it: folding, teencode and tracking codes.

Pure Python (no Rasa imports) so the main test suite can test it and the NLU
components can share it. People type with full diacritics, without any
("den duong hong"), in decomposed Unicode (NFD, from some phone keyboards), and
in chat shorthand ("ko dc", "ntn", "đg"). The NLU compares all of these on one
form: lowercase, marks dropped, đ→d, shorthand expanded.
"""
from __future__ import annotations

import re
import unicodedata

_SPACES = re.compile(r"\s+")

# Chat shorthand → folded words. Keys are the raw lowercased (NFC) token, so a
# shorthand with marks ("hông", "mún") never fires on a real word that merely
# folds to the same letters ("hỏng" = broken, "mụn").
TEENCODE: dict[str, str] = {
    # không
    "ko": "khong", "k": "khong", "kh": "khong", "khg": "khong", "kg": "khong",
    "hok": "khong", "hk": "khong", "hông": "khong", "khum": "khong",
    "hem": "khong", "hôk": "khong", "kô": "khong", "khôg": "khong",
    # được
    "dc": "duoc", "đc": "duoc", "dk": "duoc", "đk": "duoc", "đươc": "duoc",
    # question words and frequent words
    "j": "gi", "ji": "gi", "gj": "gi", "ntn": "nhu the nao",
    "bn": "bao nhieu", "bnh": "bao nhieu", "bnhiu": "bao nhieu",
    "bh": "bao gio", "h": "gio", "bjo": "bao gio", "bgio": "bao gio",
    "vs": "voi", "ns": "noi", "mn": "moi nguoi", "mng": "moi nguoi",
    "z": "vay", "zậy": "vay", "zay": "vay", "dzậy": "vay", "dzay": "vay",
    "r": "roi", "rùi": "roi", "rui": "roi",
    "ms": "moi", "cx": "cung", "cg": "cung", "cug": "cung", "cũg": "cung",
    "trc": "truoc", "đg": "duong", "dg": "duong",
    "oke": "ok", "okie": "ok", "oki": "ok", "okela": "ok", "okê": "ok", "oce": "ok",
    "okay": "ok",
    "thks": "cam on", "tks": "cam on", "thanks": "cam on", "thank": "cam on",
    "thx": "cam on", "tnx": "cam on", "camon": "cam on", "cảmơn": "cam on", "c.ơn": "cam on",
    "nc": "nuoc", "ng": "nguoi", "ngta": "nguoi ta", "nhìu": "nhieu", "nhiu": "nhieu",
    "wá": "qua", "qá": "qua", "wa": "qua", "iu": "yeu", "bít": "biet", "bik": "biet",
    "bit": "biet", "hum": "hom", "hnay": "hom nay", "hqua": "hom qua",
    "mún": "muon", "lm": "lam", "tl": "tra loi", "rep": "tra loi",
    "chx": "chua", "nv": "nhan vien", "kb": "khong biet", "đag": "dang", "dag": "dang",
    "pải": "phai", "fải": "phai", "fai": "phai", "pk": "phai khong", "wen": "quen",
    "mik": "minh", "mk": "minh", "mìk": "minh", "mìn": "minh",
    "uk": "u", "uh": "u", "uhm": "u", "um": "u", "ừm": "u", "ukm": "u", "ừ": "u",
    "sr": "xin loi", "sorry": "xin loi", "sory": "xin loi",
    "sđt": "so dien thoai", "sdt": "so dien thoai", "đt": "dien thoai", "dt": "dien thoai",
    "tp": "thanh pho", "ubnd": "uy ban nhan dan", "ub": "uy ban", "cq": "co quan",
    "kq": "ket qua", "tt": "thong tin", "ttin": "thong tin", "cty": "cong ty",
    "ks": "khach san", "dl": "du lich", "ad": "admin", "add": "admin",
    "e": "em", "a": "anh", "c": "chi", "b": "ban", "t": "toi",
    "zô": "vao", "vô": "vao", "dô": "vao", "xíu": "chut", "tí": "chut",
    "ntin": "nhan tin", "ib": "nhan tin", "inbox": "nhan tin", "đky": "dang ky",
    "dky": "dang ky", "đkí": "dang ky",
}
# Shorthand that means something only as the last word: "thế v" = "thế vậy".
TEENCODE_FINAL: dict[str, str] = {"v": "vay", "dz": "vay", "nhe": "nhe"}

_CODE = re.compile(r"^\s*PA[\s._-]*(\d{4})[\s._-]*(\d{1,6})\s*$", re.IGNORECASE)
_CODE_IN_TEXT = re.compile(r"(?<![A-Za-z0-9])PA[\s._-]*\d{4}[\s._-]*\d{1,6}(?!\d)", re.IGNORECASE)


def nfc(text: str) -> str:
    return unicodedata.normalize("NFC", text)


def strip_marks(text: str) -> str:
    """Diacritics dropped and đ→d, case and spacing kept ("Đền Đô" → "Den Do")."""
    decomposed = unicodedata.normalize("NFD", text)
    stripped = "".join(ch for ch in decomposed if unicodedata.category(ch) != "Mn")
    return unicodedata.normalize("NFC", stripped.replace("đ", "d").replace("Đ", "D"))


def fold(text: str, *, keep_case: bool = False) -> str:
    """The form we compare on: marks dropped, đ→d; lowercase and single-spaced.

    ``keep_case=True`` only drops the marks (case and spacing untouched): that is
    how a person types a sentence on a keyboard without Vietnamese input.
    """
    if keep_case:
        return strip_marks(text)
    return _SPACES.sub(" ", strip_marks(text).lower()).strip()


def has_marks(text: str) -> bool:
    """True when the text carries Vietnamese diacritics or đ."""
    return strip_marks(text) != nfc(text)


def fold_word(word: str, *, last: bool = False) -> str:
    """One token's lemma: shorthand expanded, else folded ("đc" → "duoc", "Đèn" → "den")."""
    raw = nfc(word).lower()
    if raw in TEENCODE:
        return TEENCODE[raw]
    if last and raw in TEENCODE_FINAL:
        return TEENCODE_FINAL[raw]
    return fold(raw)


def normalise(text: str) -> str:
    """A whole message folded with shorthand expanded, words single-spaced."""
    words = re.findall(r"[\w.'-]+", nfc(text))
    words = [w.strip(".'-") for w in words]
    words = [w for w in words if w]
    return " ".join(fold_word(w, last=i == len(words) - 1) for i, w in enumerate(words))


def normalise_code(text: str | None) -> str | None:
    """The canonical tracking code ``PA-YYYY-NNNNNN`` for a typed one, else None.

    Accepts the forms the API accepts ("pa2026004512", "PA 2026 004512",
    "pa-2026-4512", "Pa.2026.004512").
    """
    match = _CODE.match(text or "")
    if not match:
        return None
    return f"PA-{int(match.group(1)):04d}-{int(match.group(2)):06d}"


# A word: letters/digits, with inner joiners kept ("PA-2026-004512", "24/7", "what's",
# "99A-123.45"); other punctuation and emoji separate words and are dropped.
# Combining marks count as letters: text from some keyboards arrives decomposed (NFD).
_W = r"[\w\u0300-\u036f]"
_WORD = re.compile(rf"{_W}+(?:['’./:_-]{_W}+)*")
CODE_LEMMA = "pacode"
# The lemma of a message with no word at all ("...", "???", an emoji).
NO_WORD_LEMMA = "__noword__"


def words(text: str | None) -> list[tuple[str, int, int]]:
    """``(word, start, end)`` for each word; ``text[start:end] == word`` always.

    Vietnamese writes one syllable per word, so syllables are the tokens and the
    offsets index the message exactly as it was sent (entities need them).
    """
    return [(m.group(0), m.start(), m.end()) for m in _WORD.finditer(text or "")]


def lemmas(text: str | None) -> list[tuple[str, int, int, str]]:
    """``(word, start, end, lemma)``: the tokenizer's view of a message.

    The lemma is the folded word with shorthand expanded; every word of a tracking
    code reads as ``CODE_LEMMA``.
    """
    spans = code_spans(text)
    found = words(text)
    out = []
    for index, (word, start, end) in enumerate(found):
        if any(s <= start and end <= e for s, e in spans):
            lemma = CODE_LEMMA
        else:
            lemma = fold_word(word, last=index == len(found) - 1) or word
        out.append((word, start, end, lemma))
    return out


def code_spans(text: str | None) -> list[tuple[int, int]]:
    """``(start, end)`` of every tracking code written in a message, in order."""
    return [match.span() for match in _CODE_IN_TEXT.finditer(text or "")]


def find_code(text: str | None) -> str | None:
    """The first tracking code written anywhere in a message, canonical, else None."""
    match = _CODE_IN_TEXT.search(text or "")
    return normalise_code(match.group(0)) if match else None


# Words that are English and not also a folded Vietnamese syllable.
_ENGLISH = frozenset("""
the is are was were be been am i you we they he she it my your our their me us this that these those
what where when which who whom whose why how can could would should will shall do does did done
have has had not no yes please hello hey goodbye bye thanks thank welcome sorry excuse
there here any some much many more most near nearby around best good great nice open opening
close closed closing hours hour time today tomorrow tonight weekend day days week ticket tickets
price cost fee free visit visiting see go get find want need like looking recommend tell know
about from with without into onto of for at by on in to and or but if than then also just only
pagoda temple temples pagodas festival festivals event events hotel hotels hostel homestay room rooms
stay sleep food foods eat eating dish dishes restaurant restaurants specialty specialties local
museum museums village villages citadel lake lakes market markets place places attraction
attractions sightseeing tour tourist tourists travel trip things thing worth famous
report reports reported complaint issue problem status track tracking code number phone hotline
call emergency police help human person agent staff operator speak talk real someone somebody
robot machine assistant service services office document documents permit
english vietnamese language city province town street road address where's what's how's can't
don't i'm it's that's there's let's anything everything something nothing else much
weather football music movie song joke love money bitcoin homework
watch listen sing singing folk show shows performance buy shop shopping drink try taste trying
worth cheap expensive beautiful old ancient history historic traditional culture art craft
""".split())
# Frequent Vietnamese syllables (folded) that are not English words.
_VIETNAMESE = frozenset("""
toi ban minh em anh chi co khong duoc roi chua nhe nha a oi voi cho cua va la thi ma nhung nao gi
dau sao bao nhieu gio may muon hoi biet lam di den ve o tai trong ngoai tren duoi nay kia do day
the nhu vay duong den hong sua xu ly phan anh kien nghi ma so ho so dich vu cong chua dinh
nguoi dan xa phuong huyen tinh thanh pho bac ninh giang xin chao cam on tam biet vang da dung sai
nuoc rac thai ngap ung cay xe cho mua an uong ngu khach san nha nghi le hoi tham quan du lich
tu tieng on rat qua lam nhieu it hom nay mai qua tuan thang nam sang chieu toi dem
gui bao cao tra cuu trang thai kiem tra tong dai goi dien thoai nhan vien gap tro giup
khac nua the nao bang cach nhat luon giup huong dan vui long ak ah uk nhi ha hay mon ngon dac san
thoi khoi chinh cam nghe hieu roi biet muon phai dang ky hoa chuyen
""".split()) - _ENGLISH


def detect_language(text: str, default: str | None = "vi") -> str | None:
    """``"vi"`` or ``"en"`` for a message; ``default`` when nothing tells.

    Words vote. For Vietnamese: a lowercase word with diacritics, a frequent
    Vietnamese syllable typed without them, chat shorthand. For English: English
    function and tourist words. Capitalised words with diacritics do not vote, so
    "Where is Chùa Dâu?" stays English; single letters ("a" is English and folded
    "à"/"ạ") and words both languages use in chat ("bot", "ai", "ok") do not vote
    either. A tie is Vietnamese; no vote at all ("ok", a bare code) gives ``default``,
    so the detector can leave the conversation's language as it was.
    """
    english = vietnamese = 0
    for word in _WORD.findall(nfc(text or "")):
        if has_marks(word):
            title_case = word[:1].isupper() and not word.isupper()
            vietnamese += 0 if title_case else 1
            continue
        for part in re.findall(r"[a-z']+", word.lower()):
            if len(part) < 2:
                continue
            if part in _ENGLISH:
                english += 1
            elif part in _VIETNAMESE or part in TEENCODE:
                vietnamese += 1
    if not english and not vietnamese:
        return default
    return "en" if english > vietnamese else "vi"
