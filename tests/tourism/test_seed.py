"""The seed: real places, festivals and specialties of Bắc Ninh (code 24), vi and en."""
from sqlalchemy import select, text

from api.text import fold
from api.tourism import hours
from api.tourism.models import Food, Place, TourismEvent


def test_seed_counts(tourism_seed):
    assert tourism_seed["places"] >= 40
    assert tourism_seed["events"] >= 12
    assert tourism_seed["food"] >= 12


def test_every_place_is_bilingual_located_and_valid(tsession):
    places = tsession.scalars(select(Place)).all()
    kinds = {p.kind for p in places}
    assert {"pagoda", "temple", "communal_house", "museum", "historic_site", "craft_village",
            "park_nature", "market", "hotel_homestay"} <= kinds
    for p in places:
        assert p.name_vi and p.name_en and p.description_vi and p.description_en, p.slug
        assert 20.8 < p.lat < 21.8 and 105.8 < p.lon < 107.1, p.slug
        assert p.ward_code is not None and p.ward.province_code == "24", p.slug
        assert hours.validate(p.opening_hours) == {}, p.slug
        assert "coordinates" in p.unverified  # approximate, until an administrator checks them
    # Both halves of the merged province are represented.
    assert {p.ward.name for p in places} >= {"Phường Trí Quả", "Phường Tân An"}


def test_events_and_food_are_linked_and_bilingual(tsession):
    for event in tsession.scalars(select(TourismEvent)):
        assert event.name_vi and event.name_en and event.description_en, event.slug
    linked = [f for f in tsession.scalars(select(Food)) if f.places]
    assert len(linked) >= 8
    lim = tsession.scalar(select(TourismEvent).where(TourismEvent.slug == "hoi-lim"))
    assert (lim.calendar, lim.month, lim.day) == ("lunar", 1, 13)
    assert lim.place.slug == "doi-lim"


def test_stored_folding_agrees_with_unaccent(tsession):
    """Operators may query with lower(unaccent(…)) in SQL: it folds seed names as we do."""
    names = tsession.scalars(select(Place.name_vi)).all()
    folded = tsession.execute(text("SELECT lower(unaccent(n)) FROM unnest(CAST(:n AS text[])) n"),
                                {"n": names}).scalars().all()
    assert folded == [fold(n) for n in names]


def test_loading_again_keeps_corrections(tsession):
    from api.tourism import loaders
    place = tsession.scalar(select(Place).where(Place.slug == "chua-dau"))
    place.phone = "0222 000 000"
    tsession.flush()
    assert loaders.load_all(tsession, "24") == {"places": 0, "events": 0, "food": 0}
    tsession.refresh(place)
    assert place.phone == "0222 000 000"
