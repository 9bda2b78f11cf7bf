"""Who may call what: the declared access of every route of the app.

One entry per Flask endpoint (the name in ``app.url_map``) and HTTP method. For each
principal an entry says either *allowed* (the guard lets the call through: any answer
but 401/403, e.g. 200, 404 for a missing row, 409, 422) or the status the guard answers
instead (401, 403, or 404 where "not yours" reads as "not found"; on the staff console's
HTML pages, 302 is the redirect to its sign-in page).

``tests/security/test_role_matrix.py`` walks ``app.url_map``, fails on any route missing
here (a new route must be declared), and calls every route as every principal with real
credentials to check the answers against this table.

The principals, relative to one report of a known unit sent by one citizen:
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

ANONYMOUS = "anonymous"              # no credentials at all
CITIZEN = "citizen"                  # Firebase-signed citizen who sent the report
OTHER_CITIZEN = "other_citizen"      # another Firebase-signed citizen
OFFICER = "officer"                  # officer of the report's unit
OTHER_OFFICER = "other_officer"      # officer of another unit
UNIT_HEAD = "unit_head"              # head of the report's unit
DISPATCHER = "dispatcher"            # IOC dispatcher
ADMIN = "admin"                      # administrator
IOC_KEY = "ioc_key"                  # an integrating system's API key with scope "ioc"
OPEN311_KEY = "open311_key"          # an Open311 partner's API key (scope "open311")

PRINCIPALS = (ANONYMOUS, CITIZEN, OTHER_CITIZEN, OFFICER, OTHER_OFFICER, UNIT_HEAD, DISPATCHER,
              ADMIN, IOC_KEY, OPEN311_KEY)
CITIZENS = (CITIZEN, OTHER_CITIZEN)
KEYS = (IOC_KEY, OPEN311_KEY)
# The role in each staff principal's token.
STAFF_ROLES = {OFFICER: "officer", OTHER_OFFICER: "officer", UNIT_HEAD: "unit_head",
               DISPATCHER: "dispatcher", ADMIN: "admin"}
ALL_ROLES = ("officer", "unit_head", "dispatcher", "admin")
IOC_ROLES = ("dispatcher", "admin")
UNIT_ROLES = ("officer", "unit_head")

API = "api"          # errors in the {code, status, message, errors} envelope
OPEN311 = "open311"  # errors in GeoReport v2's own format (docs/open311.md)
NONE = "none"        # not an API route (HTML, static files): no error body to check


@dataclass(frozen=True)
class Access:
    """The declared outcome of one route for each principal."""
    summary: str
    denied: Mapping[str, int] = field(default_factory=dict)
    envelope: str = API

    def __post_init__(self):
        unknown = set(self.denied) - set(PRINCIPALS)
        if unknown:
            raise ValueError(f"unknown principals {sorted(unknown)}")
        bad = {p: s for p, s in self.denied.items() if s not in (302, 401, 403, 404)}
        if bad:
            raise ValueError(f"a denial is 401, 403 or 404 (302: to sign-in), not {bad}")

    @property
    def allowed(self) -> frozenset[str]:
        return frozenset(p for p in PRINCIPALS if p not in self.denied)

    def expected(self, principal: str) -> int | None:
        """None when the principal is allowed, else the status of the refusal."""
        return self.denied.get(principal)


# --- how the guards answer ---------------------------------------------------------------

def public(summary: str = "anyone", envelope: str = API) -> Access:
    return Access(summary, {}, envelope)


def citizen_only(summary: str = "a citizen (Firebase token or device id)", *,
                 owner_only: bool = False, other_citizen: int = 403) -> Access:
    """``current_citizen()``: no credentials → 401; a staff token → 403 CITIZEN_ONLY; an API
    key is no citizen → 401. ``owner_only`` (the citizen's own report or device): another
    citizen gets ``other_citizen``."""
    denied = {ANONYMOUS: 401, IOC_KEY: 401, OPEN311_KEY: 401}
    denied |= {p: 403 for p in STAFF_ROLES}
    if owner_only:
        denied[OTHER_CITIZEN] = other_citizen
    return Access(summary, denied)


def staff(*roles: str, unit_scoped: bool = False, ioc_key: bool = False,
          summary: str | None = None) -> Access:
    """``current_staff(*roles)`` / ``staff_required``: no token → 401, a citizen token → 403
    STAFF_ONLY, another role → 403. ``unit_scoped``: officers and unit heads only for their
    own unit's report (the officer of another unit → 403). ``ioc_key``: an ``ioc`` key is
    accepted too and an ``open311`` key refused (403 INVALID_API_KEY)."""
    roles = roles or ALL_ROLES
    denied = {ANONYMOUS: 401, CITIZEN: 403, OTHER_CITIZEN: 403, IOC_KEY: 401, OPEN311_KEY: 401}
    for principal, role in STAFF_ROLES.items():
        if role not in roles or (unit_scoped and principal == OTHER_OFFICER):
            denied[principal] = 403
    if ioc_key:
        del denied[IOC_KEY]
        denied[OPEN311_KEY] = 403
    who = ", ".join(roles) + (" of the report's unit" if unit_scoped else "")
    return Access(summary or f"staff: {who}" + (", or an ioc key" if ioc_key else ""), denied)


def unit_action(*unit_roles: str, summary: str) -> Access:
    """Actions of the report's unit (``actions._for_unit``): its officers/head as given, and
    dispatchers and admins on behalf of any unit."""
    return staff(*(unit_roles or UNIT_ROLES), *IOC_ROLES, unit_scoped=True, summary=summary)


def dispatcher_action(summary: str) -> Access:
    return staff(*IOC_ROLES, summary=summary)


def console(*roles: str, unit_scoped: bool = False, summary: str) -> Access:
    """The staff console (HTML, its own signed session cookie; bearer tokens and API keys
    mean nothing there): without a console session → 302 to ``/console/login``; staff signed
    in with another role, or an officer of another unit → 403 error page."""
    roles = roles or ALL_ROLES
    denied = {p: 302 for p in (ANONYMOUS, *CITIZENS, *KEYS)}
    for principal, role in STAFF_ROLES.items():
        if role not in roles or (unit_scoped and principal == OTHER_OFFICER):
            denied[principal] = 403
    return Access(summary, denied, NONE)


def open311_read(summary: str) -> Access:
    """Open311 reads: no key needed, but a key that is sent must be an ``open311`` key."""
    return Access(summary, {IOC_KEY: 403}, OPEN311)


def open311_write(summary: str) -> Access:
    return Access(summary, {p: 403 for p in PRINCIPALS if p != OPEN311_KEY}, OPEN311)


def chat_open(summary: str) -> Access:
    """Open to anyone, optionally as a citizen (``current_citizen(required=False)``): a staff
    token is refused (403 CITIZEN_ONLY)."""
    return Access(summary, {p: 403 for p in STAFF_ROLES})


def chat_grant(summary: str) -> Access:
    """Only the bot, with a chat grant minted by ``POST /api/v1/chat`` (none of the principals
    holds one: ``tests/chat`` proves the grant's side): no bearer → 401, any other bearer → 403."""
    denied = {p: 403 for p in (*CITIZENS, *STAFF_ROLES)}
    denied |= {ANONYMOUS: 401, IOC_KEY: 401, OPEN311_KEY: 401}
    return Access(summary, denied)


# --- the table ----------------------------------------------------------------------------

def _entries(pairs: Iterable[tuple[str, str | tuple[str, ...], Access]]) -> dict:
    table = {}
    for endpoint, methods, access in pairs:
        for method in (methods,) if isinstance(methods, str) else methods:
            if (endpoint, method) in table:
                raise ValueError(f"{endpoint} {method} declared twice")
            table[(endpoint, method)] = access
    return table


_OPEN311_ALL = ("GET", "POST", "PUT", "PATCH", "DELETE")

POLICY: dict[tuple[str, str], Access] = _entries([
    # health, docs, static assets
    ("health.healthz", "GET", public("liveness")),
    ("health.readyz", "GET", public("readiness")),
    ("metrics.metrics", "GET", public(
        "Prometheus metrics: loopback/private callers, or the METRICS_TOKEN bearer when set "
        "(tests/ops/test_metrics.py proves both refusals)")),
    ("api-docs.openapi_json", "GET", public("the OpenAPI document")),
    ("api-docs.openapi_swagger_ui", "GET", public("Swagger UI", NONE)),
    ("swagger_assets", "GET", public("Swagger UI assets", NONE)),

    # staff sign-in
    ("auth.login", "POST", public("staff sign-in (throttled per e-mail and IP)")),

    # reference data and open data
    ("categories.list_categories", "GET", public("the category tree")),
    ("exports.reports_csv", "GET", public("open data, public fields")),
    ("exports.reports_geojson", "GET", public("open data, public fields")),
    ("photos.media", "GET", public("stripped photo derivatives (content-addressed keys)")),

    # citizens: reports
    ("reports.create", "POST", citizen_only("send a report")),
    ("reports.list_reports", "GET", public("public reports")),
    ("reports.duplicates", "GET", public("nearby open reports")),
    ("reports.get_report", "GET", public("a report's public view (no personal data)")),
    ("reports.report_events", "GET", public("a report's public timeline")),
    ("reports.follow", ("POST", "DELETE"), citizen_only("follow any report")),
    ("reports.reply", "POST", citizen_only("the reporter answers the unit's question",
                                           owner_only=True)),
    ("reports.rating", "POST", citizen_only("the reporter rates the answer", owner_only=True)),
    ("reports.dispute", "POST", citizen_only("the reporter disputes the answer",
                                             owner_only=True)),
    ("photos.upload", "POST", citizen_only("upload a report photo")),

    # citizens: themselves
    ("me.my_reports", "GET", citizen_only("my reports")),
    ("me_notifications.add_device", "POST", citizen_only("register my phone for push")),
    ("me_notifications.remove_device", "DELETE", citizen_only(
        "unregister my phone (another citizen's device reads as not found)",
        owner_only=True, other_citizen=404)),
    ("me_notifications.list_notifications", "GET", citizen_only("my inbox")),
    ("me_notifications.mark_read", "POST", citizen_only("mark my inbox read")),
    ("me_data.export_my_data", "GET", citizen_only("a copy of my personal data")),
    ("me_data.erase_my_data", "DELETE", citizen_only("erase my personal data")),

    # staff: reports
    ("photos.staff_upload", "POST", staff(summary="any staff: an evidence/progress photo")),
    ("staff_reports.get_queue", "GET", staff(summary="any staff: their own queue")),
    ("staff_reports.get_report", "GET", staff(
        unit_scoped=True, summary="staff view: the report's unit, dispatchers, admins")),
    ("staff_reports.post_transition", "POST", staff(
        unit_scoped=True, summary="generic transition: the unit's own steps, dispatchers all")),
    ("staff_reports.action_accept", "POST", unit_action(summary="unit: accept")),
    ("staff_reports.action_return", "POST", unit_action(summary="unit: return to dispatcher")),
    ("staff_reports.action_request_info", "POST", unit_action(summary="unit: ask the citizen")),
    ("staff_reports.action_progress", "POST", unit_action(summary="unit: progress update")),
    ("staff_reports.action_resolve", "POST", unit_action(summary="unit: resolve")),
    ("staff_reports.action_extension", "POST", unit_action(summary="unit: ask for an extension")),
    ("staff_reports.action_assign", "POST", unit_action(
        "unit_head", summary="unit head: assign to an officer")),
    ("staff_reports.action_extension_decision", "POST", unit_action(
        "unit_head", summary="unit head: decide the extension")),
    ("staff_reports.action_route", "POST", dispatcher_action("dispatcher: route to a unit")),
    ("staff_reports.action_recategorise", "POST", dispatcher_action("dispatcher: recategorise")),
    ("staff_reports.action_class", "POST", dispatcher_action("dispatcher: change SLA class")),
    ("staff_reports.action_reject", "POST", dispatcher_action("dispatcher: reject")),
    ("staff_reports.action_duplicate", "POST", dispatcher_action("dispatcher: mark duplicate")),
    ("staff_reports.action_transfer_out", "POST", dispatcher_action("dispatcher: transfer out")),

    # administration
    ("admin.list_rules", "GET", staff(*IOC_ROLES)),
    ("admin.create_rule", "POST", staff("admin")),
    ("admin.delete_rule", "DELETE", staff("admin")),
    ("admin.list_exceptions", "GET", staff(*IOC_ROLES)),
    ("admin.create_exception", "POST", staff("admin")),
    ("admin.delete_exception", "DELETE", staff("admin")),
    ("admin.list_policies", "GET", staff(*IOC_ROLES)),
    ("admin.create_policy", "POST", staff("admin")),
    ("open311_admin.list_keys", "GET", staff("admin")),
    ("open311_admin.create_key", "POST", staff("admin")),
    ("open311_admin.revoke_key", "DELETE", staff("admin")),
    ("ioc_webhooks.list_webhooks", "GET", staff("admin")),
    ("ioc_webhooks.create_webhook", "POST", staff("admin")),
    ("ioc_webhooks.disable_webhook", "DELETE", staff("admin")),
    ("ioc_webhooks.list_deliveries", "GET", staff("admin")),
    ("ioc_webhooks.replay_webhook", "POST", staff("admin")),
    ("ioc_webhooks.retry_dead", "POST", staff("admin")),
    ("audit_log.audit_log", "GET", staff("admin", summary="admin: the personal-data audit log")),

    # administration: the directory
    ("admin_directory.list_staff", "GET", staff("admin")),
    ("admin_directory.create_staff", "POST", staff("admin")),
    ("admin_directory.update_staff", "PATCH", staff("admin")),
    ("admin_directory.list_units", "GET", staff("admin")),
    ("admin_directory.create_unit", "POST", staff("admin")),
    ("admin_directory.update_unit", "PATCH", staff("admin")),
    ("admin_directory.list_categories", "GET", staff("admin")),
    ("admin_directory.create_category", "POST", staff("admin")),
    ("admin_directory.update_category", "PATCH", staff("admin")),

    # tourism: public reads, admin edits
    ("tourism.list_places", "GET", public("places to visit")),
    ("tourism.get_place", "GET", public("one place")),
    ("tourism.list_events", "GET", public("festivals and events")),
    ("tourism.list_food", "GET", public("local food")),
    ("tourism_admin.create_place", "POST", staff("admin")),
    ("tourism_admin.get_place_admin", "GET", staff("admin")),
    ("tourism_admin.update_place", "PATCH", staff("admin")),
    ("tourism_admin.add_place_photo", "POST", staff("admin")),
    ("tourism_admin.remove_place_photo", "DELETE", staff("admin")),
    ("tourism_admin.create_event", "POST", staff("admin")),
    ("tourism_admin.get_event_admin", "GET", staff("admin")),
    ("tourism_admin.update_event", "PATCH", staff("admin")),

    # the chatbot: the app's proxy, the bot's handoffs, the dispatchers' handoff queue
    ("chat.chat", "POST", chat_open("talk to the bot (as a citizen when signed in)")),
    ("chat.create_handoff", "POST", chat_grant("the bot hands a conversation to the IOC")),
    ("chat_handoffs.list_handoffs", "GET", staff(*IOC_ROLES)),
    ("chat_handoffs.close_handoff", "POST", staff(*IOC_ROLES)),

    # the staff console (HTML, session cookie + CSRF)
    ("console.login", ("GET", "POST"), public("the console's sign-in form", NONE)),
    ("console.logout", "POST", public("sign out (no session: back to sign-in too)", NONE)),
    ("console.queue_page", "GET", console(summary="console: my queue")),
    ("console.go", "GET", console(summary="console: jump to a code")),
    ("console.report_page", "GET", console(
        unit_scoped=True, summary="console: a report, for its unit, dispatchers, admins")),
    ("console.act", "POST", console(
        unit_scoped=True, summary="console: act on a report (the action's own roles apply)")),

    # the IOC feed
    ("ioc.reports", "GET", staff(*IOC_ROLES, ioc_key=True)),
    ("ioc.events", "GET", staff(*IOC_ROLES, ioc_key=True)),
    ("ioc.stream", "GET", staff(*IOC_ROLES, ioc_key=True)),
    ("ioc_kpis.kpis", "GET", staff(*IOC_ROLES, ioc_key=True)),
    ("ioc.event_data_schema", "GET", public("JSON Schema of the CloudEvents' data")),
    ("ioc_wall.wall", "GET", public("the wall page: no data in it", NONE)),
    ("ioc_wall.wards", "GET", public("ward centroids (public reference data)", NONE)),

    # Open311 GeoReport v2
    ("open311.discovery", "GET", open311_read("discovery")),
    ("open311.services", "GET", open311_read("service list")),
    ("open311.service_definition", "GET", open311_read("service definition")),
    ("open311.list_requests", "GET", open311_read("service requests")),
    ("open311.get_request", "GET", open311_read("one service request")),
    ("open311.token", "GET", open311_read("token → request id")),
    ("open311.request_updates", "GET", open311_read("request updates")),
    ("open311.create_request", "POST", open311_write("create a service request: open311 key")),
    ("open311.not_found", _OPEN311_ALL, public("404 for any other Open311 path", OPEN311)),
])

# Served files: not routes of ours to declare.
EXEMPT_ENDPOINTS = frozenset({"static", "ioc_wall.static", "console.static"})
IGNORED_METHODS = frozenset({"HEAD", "OPTIONS"})


def routes(app) -> list[tuple[str, str, str]]:
    """Every (endpoint, method, rule) of the app that the policy must declare."""
    out = []
    for rule in app.url_map.iter_rules():
        if rule.endpoint in EXEMPT_ENDPOINTS:
            continue
        for method in sorted((rule.methods or set()) - IGNORED_METHODS):
            out.append((rule.endpoint, method, rule.rule))
    return out


def undeclared(app) -> list[tuple[str, str, str]]:
    return [r for r in routes(app) if (r[0], r[1]) not in POLICY]


def stale(app) -> list[tuple[str, str]]:
    """Declared but no longer routed (a removed or renamed route)."""
    present = {(e, m) for e, m, _ in routes(app)}
    return sorted(k for k in POLICY if k not in present)
