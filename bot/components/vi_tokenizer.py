"""Tokenizer for Vietnamese: syllables as tokens, folded lemmas.

Vietnamese writes one syllable per space-separated word, so splitting on words keeps
the text's offsets exact (word segmenters re-join syllables and move offsets). Each
token's lemma is its folded form with chat shorthand expanded, and the featurizers
read lemmas: "Đèn đường", "den duong" and "đèn đg" look alike. The splitting and the
lemmas live in ``vi_text.lemmas`` (pure Python, unit-tested).
"""
from __future__ import annotations

from typing import Any, Dict, List, Optional, Text

from rasa.engine.graph import ExecutionContext
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.tokenizers.tokenizer import Token, Tokenizer
from rasa.shared.nlu.training_data.message import Message

from .vi_text import CODE_LEMMA, NO_WORD_LEMMA, lemmas  # noqa: F401  (CODE_LEMMA re-exported)


@DefaultV1Recipe.register(
    DefaultV1Recipe.ComponentType.MESSAGE_TOKENIZER, is_trainable=False
)
class VietnameseTokenizer(Tokenizer):
    """Syllable tokens whose lemma is the folded, shorthand-expanded syllable."""

    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        return {
            "intent_tokenization_flag": False,
            "intent_split_symbol": "_",
            "token_pattern": None,
            "prefix_separator_symbol": None,
        }

    @staticmethod
    def not_supported_languages() -> Optional[List[Text]]:
        return None

    @classmethod
    def create(
        cls,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> "VietnameseTokenizer":
        return cls(config)

    def tokenize(self, message: Message, attribute: Text) -> List[Token]:
        text = message.get(attribute) or ""
        tokens = [Token(word, start, end, lemma=lemma) for word, start, end, lemma in lemmas(text)]
        if not tokens:  # Rasa needs a token: "...", "???" or an emoji read alike
            tokens = [Token(text, 0, len(text), lemma=NO_WORD_LEMMA)]
        return self._apply_token_pattern(tokens)
