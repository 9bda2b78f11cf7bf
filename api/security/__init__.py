"""Cross-cutting security (DESIGN §10): the declared access policy of every route
(``policy``), Redis-backed rate limits (``ratelimit``), the refusal of NUL characters in
input (``inputs``) and the HTTP security headers of every response (``headers``)."""


def install(app) -> None:
    """Everything app-wide: the input guard and the response headers."""
    from api.security.headers import install_security_headers
    from api.security.inputs import install_input_guard
    install_input_guard(app)
    install_security_headers(app)
