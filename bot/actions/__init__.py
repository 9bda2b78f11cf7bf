"""Custom actions of the citizen chatbot (rasa-sdk 3.6), run by ``rasa run actions --actions actions``.

Every action is a thin layer over the public API (``IOC_API_URL``): it reads the
conversation, asks the API, and answers in the language of the ``lang`` slot. Custom
cards follow ``mobile_contracts/chat/cards.schema.json``.
"""
