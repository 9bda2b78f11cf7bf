"""The chatbot seen from the API: ``POST /api/v1/chat`` proxies a message to Rasa's REST
channel and returns its replies in one envelope; the bot hands a conversation to a person
through ``POST /api/v1/chat/handoffs``, which IOC dispatchers work from a queue.

The app talks to the API only. The bot talks to the API over HTTP only, with a chat grant
(``grants.py``) that the proxy mints for each message: the bot can act for the citizen in
the conversation (send a report, ask for a person) and for nothing else.
"""
