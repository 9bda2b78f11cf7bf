"""Marks every message with a ``lang`` entity: ``en`` or ``vi``.

The bot answers tourists in English and everyone else in Vietnamese, so each
message says which it is (the ``lang`` slot is filled from this entity).
The guess lives in ``vi_text.detect_language`` (pure Python, unit-tested).
"""
from __future__ import annotations

from typing import Any, Dict, List, Text

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.extractors.extractor import EntityExtractorMixin
from rasa.shared.nlu.constants import (
    ENTITIES,
    ENTITY_ATTRIBUTE_END,
    ENTITY_ATTRIBUTE_START,
    ENTITY_ATTRIBUTE_TYPE,
    ENTITY_ATTRIBUTE_VALUE,
    EXTRACTOR,
    TEXT,
)
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from .vi_text import detect_language

LANG_ENTITY = "lang"


@DefaultV1Recipe.register(
    DefaultV1Recipe.ComponentType.ENTITY_EXTRACTOR, is_trainable=False
)
class LanguageDetector(GraphComponent, EntityExtractorMixin):
    """Adds ``{"entity": "lang", "value": "en"|"vi"}`` spanning the message.

    Messages that say nothing about their language ("ok", "PA-2026-000123", "👍")
    get no entity, so the slot keeps the language of the conversation.
    """

    @classmethod
    def create(
        cls,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> "LanguageDetector":
        return cls()

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        # Nothing is learned from it; training examples keep their own entities.
        return training_data

    def process(self, messages: List[Message]) -> List[Message]:
        for message in messages:
            text = message.get(TEXT) or ""
            lang = detect_language(text, default=None)
            if lang is None:  # "ok", a bare code: the conversation keeps its language
                continue
            entity = {
                ENTITY_ATTRIBUTE_TYPE: LANG_ENTITY,
                ENTITY_ATTRIBUTE_VALUE: lang,
                ENTITY_ATTRIBUTE_START: 0,
                ENTITY_ATTRIBUTE_END: len(text),
                EXTRACTOR: self.name,
            }
            entities = [e for e in message.get(ENTITIES, []) if e.get(ENTITY_ATTRIBUTE_TYPE) != LANG_ENTITY]
            message.set(ENTITIES, entities + [entity], add_to_output=True)
        return messages
