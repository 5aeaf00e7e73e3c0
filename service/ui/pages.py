"""The dashboard's pages: the API's rules (roles, audit, validation) behind a browser session.

Every page reads through the same functions as the HTTP API (``ranking_page``, ``risk_of``,
``build_plan``, ``model_catalogue``), so a list on screen is the list the API gives, and every
view of employer risk writes the same audit row (endpoint ``/ui/...``). Forms that change
anything carry the session's CSRF token; the session cookie is HttpOnly and SameSite=Strict;
pages are never cached and may not be framed.
"""

from __future__ import annotations

import hmac
import secrets
from dataclasses import dataclass
from datetime import timedelta
from typing import Annotated, Any, Literal
from urllib.parse import quote, urlencode

import sqlalchemy as sa
from fastapi import APIRouter, Depends, Form, Path, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates
from pydantic import ValidationError
from starlette.concurrency import run_in_threadpool

from calle.offices import OfficeArea
from calle.store import schema
from features.contract import SIZE_BANDS
from service.audit import record_access
from service.dependencies import (
    CachesDep,
    EngineDep,
    OfficeAreasDep,
    ReasonsOnReadDep,
    SettingsDep,
)
from service.employers import risk_of
from service.keys import find_key
from service.planning import OfficeRequest, PlanRequest, build_plan, plan_csv, read_plan
from service.plans import recent_plans
from service.problems import Problem
from service.rankings import office_area_of, ranking_page
from service.registry import MODEL_NAME, model_catalogue, run_plot, run_plots
from service.roles import Role
from service.snapshots import SERVED_MODEL, SnapshotInfo, current_snapshot, latest_snapshot
from service.ui.activity import inspection_activity
from service.ui.exports import plan_workbook
from service.ui.sessions import COOKIE, UiSession, end_session, find_session, start_session
from service.ui.texts import LANGUAGE_COOKIE, LANGUAGES, TEXTS, language_of
from service.ui.timeline import employer_timeline
from training.monitoring import latest_report, realised_hit_rates

PREFIX = "/ui"
SIGN_IN_COOKIE = "calle_sign_in"
#: Roles that may sign in; the ECMS is a machine and has no pages.
UI_ROLES = (Role.planner, Role.data_scientist, Role.admin)
PAGE_ROWS = 50
#: Codes of an office's area shown beside it in the plan builder before "… (+n)".
MAX_COVERAGE_CODES = 6
SECURITY_HEADERS = {
    "Cache-Control": "no-store",
    "Content-Security-Policy": "default-src 'self'; frame-ancestors 'none'; form-action 'self'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
}

router = APIRouter(prefix=PREFIX, include_in_schema=False)


class SignInRequired(Exception):
    """No live session: the browser is sent to the sign-in page, then back."""

    def __init__(self, next_url: str) -> None:
        self.next_url = next_url


def _local(url: str | None) -> str:
    """Only the dashboard's own pages are followed after sign-in (no open redirect)."""
    if url and url.startswith(f"{PREFIX}/") and not url.startswith("//"):
        return url
    return f"{PREFIX}/"


def sign_in_redirect(_request: Request, error: SignInRequired) -> Response:
    target = f"{PREFIX}/sign-in?{urlencode({'next': _local(error.next_url)})}"
    return RedirectResponse(target, status_code=303, headers=SECURITY_HEADERS)


def current_session(request: Request, engine: EngineDep) -> UiSession:
    session = find_session(engine, request.cookies.get(COOKIE))
    if session is None:
        url = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        raise SignInRequired(url)
    return session


SessionDep = Annotated[UiSession, Depends(current_session)]


def _language(request: Request) -> str:
    return language_of(request.cookies.get(LANGUAGE_COOKIE))


def render(
    request: Request,
    template: str,
    session: UiSession | None,
    status: int = 200,
    **context: Any,
) -> HTMLResponse:
    templates: Jinja2Templates = request.app.state.ui_templates
    lang = _language(request)
    return templates.TemplateResponse(
        request,
        template,
        {"t": TEXTS[lang], "lang": lang, "session": session, "prefix": PREFIX, **context},
        status_code=status,
        headers=SECURITY_HEADERS,
    )


def _refuse(request: Request, session: UiSession, status: int, message: str) -> HTMLResponse:
    return render(request, "message.html", session, status=status, message=message)


def _allowed(session: UiSession, *roles: Role) -> bool:
    return session.key.role in {*roles, Role.admin}


def _check_csrf(session: UiSession, token: str) -> bool:
    return hmac.compare_digest(session.csrf_token.encode(), token.encode())


def _problem_text(problem: Problem) -> str:
    return str(problem.detail)


# -- sign-in, sign-out, language -------------------------------------------------------


@router.get("/")
def home(session: SessionDep) -> Response:
    target = "rankings" if _allowed(session, Role.planner) else "models"
    return RedirectResponse(f"{PREFIX}/{target}", status_code=303, headers=SECURITY_HEADERS)


@router.get("/sign-in")
def sign_in_form(request: Request, next: str | None = None) -> HTMLResponse:
    return _sign_in_page(request, 200, next, None)


def _sign_in_page(
    request: Request, status: int, next_url: str | None, error: str | None
) -> HTMLResponse:
    """The form, with a fresh nonce in a hidden field and in a SameSite cookie: a sign-in
    posted from another site carries no cookie and is refused (login CSRF)."""
    nonce = secrets.token_urlsafe(24)
    response = render(
        request, "sign_in.html", None, status, next=_local(next_url), nonce=nonce, error=error
    )
    _set_cookie(request, response, SIGN_IN_COOKIE, nonce, max_age=1800)
    return response


def _set_cookie(
    request: Request, response: Response, name: str, value: str, max_age: int | None
) -> None:
    response.set_cookie(
        name,
        value,
        max_age=max_age,
        path=PREFIX,
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
    )


@router.post("/sign-in")
def sign_in(
    request: Request,
    engine: EngineDep,
    settings: SettingsDep,
    key: Annotated[str, Form(max_length=512)] = "",
    nonce: Annotated[str, Form(max_length=128)] = "",
    next: Annotated[str, Form(max_length=2048)] = "",
) -> Response:
    texts = TEXTS[_language(request)]
    expected = request.cookies.get(SIGN_IN_COOKIE, "")
    if not expected or not hmac.compare_digest(expected.encode(), nonce.encode()):
        return _sign_in_page(request, 400, next, texts["error"])
    with engine.connect() as connection:
        record = find_key(connection, key.strip()) if key.strip() else None
    if record is None or record.revoked:
        return _sign_in_page(request, 401, next, texts["bad_key"])
    if record.role not in UI_ROLES:
        return _sign_in_page(request, 403, next, texts["wrong_role"])
    token, _ = start_session(engine, record, settings.ui_session_hours)
    response = RedirectResponse(_local(next), status_code=303, headers=SECURITY_HEADERS)
    _set_cookie(request, response, COOKIE, token, max_age=int(settings.ui_session_hours * 3600))
    response.delete_cookie(SIGN_IN_COOKIE, path=PREFIX)
    return response


@router.post("/sign-out")
def sign_out(
    request: Request,
    engine: EngineDep,
    session: SessionDep,
    csrf_token: Annotated[str, Form(max_length=128)] = "",
) -> Response:
    if not _check_csrf(session, csrf_token):
        return _refuse(request, session, 403, TEXTS[_language(request)]["error"])
    end_session(engine, request.cookies.get(COOKIE))
    response = RedirectResponse(f"{PREFIX}/sign-in", status_code=303, headers=SECURITY_HEADERS)
    response.delete_cookie(COOKIE, path=PREFIX)
    return response


@router.get("/language/{lang}")
def choose_language(
    request: Request, lang: Annotated[str, Path(max_length=8)], next: str | None = None
) -> Response:
    response = RedirectResponse(_local(next), status_code=303, headers=SECURITY_HEADERS)
    if lang in LANGUAGES:
        _set_cookie(request, response, LANGUAGE_COOKIE, lang, max_age=365 * 24 * 3600)
    return response


# -- ranked list and employer page ------------------------------------------------------


@router.get("/rankings")
def rankings(
    request: Request,
    engine: EngineDep,
    caches: CachesDep,
    explain: ReasonsOnReadDep,
    settings: SettingsDep,
    office_areas: OfficeAreasDep,
    session: SessionDep,
    state: Annotated[str | None, Query(max_length=16)] = None,
    municipality: Annotated[str | None, Query(max_length=64)] = None,
    sector: Annotated[str | None, Query(max_length=6)] = None,
    size_band: Annotated[str | None, Query(max_length=32)] = None,
    office: Annotated[str | None, Query(max_length=64)] = None,
    category: Annotated[str, Query(max_length=64)] = "any",
    cursor: Annotated[str | None, Query(max_length=2048)] = None,
) -> HTMLResponse:
    if not _allowed(session, Role.planner):
        return _refuse(request, session, 403, TEXTS[_language(request)]["forbidden"])
    filters = {
        "state": state or None,
        "municipality": municipality or None,
        "sector": sector or None,
        "size_band": size_band or None,
        "office": office or None,
        "category": category or "any",
    }
    audited: dict[str, Any] = {k: v for k, v in filters.items() if v is not None}
    audited["limit"] = PAGE_ROWS
    endpoint = f"{PREFIX}/rankings"
    snapshot = current_snapshot(engine, caches.snapshots)
    options = _filter_options(snapshot, settings.region_codes, office_areas)
    try:
        area = office_area_of(office_areas, filters["office"])
        page = ranking_page(
            engine,
            caches,
            explain,
            settings.region_codes,
            filters,
            area,
            PAGE_ROWS,
            cursor or None,
            audited,
        )
    except Problem as problem:
        record_access(engine, session.key, "GET", endpoint, audited, 0, problem.status)
        return render(
            request,
            "rankings.html",
            session,
            problem.status,
            filters=filters,
            options=options,
            page=None,
            error=_problem_text(problem),
        )
    record_access(engine, session.key, "GET", endpoint, audited, len(page["items"]), 200)
    query = {k: v for k, v in filters.items() if v is not None}
    next_url = (
        f"{endpoint}?{urlencode({**query, 'cursor': page['next_cursor']})}"
        if page["next_cursor"]
        else None
    )
    first_url = f"{endpoint}?{urlencode(query)}" if cursor else None
    return render(
        request,
        "rankings.html",
        session,
        filters=filters,
        options=options,
        page=page,
        next_url=next_url,
        first_url=first_url,
    )


def _latest(engine: sa.Engine) -> SnapshotInfo | None:
    with engine.connect() as connection:
        return latest_snapshot(connection, SERVED_MODEL)


def _categories(snapshot: SnapshotInfo | None) -> list[str]:
    return list(snapshot.targets) if snapshot else ["any"]


def _filter_options(
    snapshot: SnapshotInfo | None, regions: list[str], areas: Any
) -> dict[str, list[str]]:
    return {
        "states": list(regions),
        "size_bands": list(SIZE_BANDS),
        "categories": _categories(snapshot),
        "offices": sorted(areas.offices) if areas is not None else [],
    }


@router.get("/employers/{employer_id}")
def employer(
    request: Request,
    engine: EngineDep,
    caches: CachesDep,
    explain: ReasonsOnReadDep,
    session: SessionDep,
    employer_id: Annotated[str, Path(min_length=1, max_length=128)],
) -> HTMLResponse:
    if not _allowed(session, Role.planner):
        return _refuse(request, session, 403, TEXTS[_language(request)]["forbidden"])
    endpoint = f"{PREFIX}/employers/{{employer_id}}"
    audited = {"employer_id": employer_id}
    try:
        risk = risk_of(engine, caches, explain, employer_id)
    except Problem as problem:
        record_access(engine, session.key, "GET", endpoint, audited, 0, problem.status)
        return _refuse(request, session, problem.status, _problem_text(problem))
    record_access(engine, session.key, "GET", endpoint, audited, 1, 200)
    with engine.connect() as connection:
        timeline = employer_timeline(connection, employer_id)
    return render(request, "employer.html", session, risk=risk, timeline=timeline)


# -- plans ------------------------------------------------------------------------------


@router.get("/plans")
def plan_builder(
    request: Request,
    engine: EngineDep,
    office_areas: OfficeAreasDep,
    session: SessionDep,
) -> HTMLResponse:
    if not _allowed(session, Role.planner):
        return _refuse(request, session, 403, TEXTS[_language(request)]["forbidden"])
    return _builder(request, engine, office_areas, session, 200, form={})


@dataclass(frozen=True)
class OfficeInput:
    """An office's capacity input in the plan builder, with what it covers to search by."""

    name: str
    capacity: int | None
    covers: str


def _coverage(area: OfficeArea, texts: dict[str, str]) -> str:
    """E.g. "estados 11, 12; municipios 14002, 14004": shown beside the office and searched
    by the builder's office filter (a long list is cut after its first few codes)."""
    parts = []
    for label, codes in (
        (texts["covers_states"], area.states),
        (texts["covers_municipalities"], area.municipalities),
    ):
        if codes:
            hidden = len(codes) - MAX_COVERAGE_CODES
            more = f" … (+{hidden})" if hidden > 0 else ""
            parts.append(f"{label} {', '.join(codes[:MAX_COVERAGE_CODES])}{more}")
    return "; ".join(parts)


def _builder(
    request: Request,
    engine: sa.Engine,
    areas: Any,
    session: UiSession,
    status: int,
    form: dict[str, Any],
    error: str | None = None,
) -> HTMLResponse:
    texts = TEXTS[_language(request)]
    offices = []
    if areas is not None:
        offices = [
            OfficeInput(name, area.capacity, _coverage(area, texts))
            for name, area in sorted(areas.offices.items())
        ]
    return render(
        request,
        "plan_builder.html",
        session,
        status,
        offices=offices,
        categories=_categories(_latest(engine)),
        form=form,
        error=error,
        plans=recent_plans(engine, 20),
    )


@router.post("/plans")
async def create_plan(
    request: Request,
    engine: EngineDep,
    office_areas: OfficeAreasDep,
    session: SessionDep,
) -> Response:
    if not _allowed(session, Role.planner):
        return _refuse(request, session, 403, TEXTS[_language(request)]["forbidden"])
    form = {k: str(v) for k, v in (await request.form()).items()}
    if not _check_csrf(session, form.get("csrf_token", "")):
        return _refuse(request, session, 403, TEXTS[_language(request)]["error"])
    endpoint = f"{PREFIX}/plans"
    try:
        body = _plan_request(form)
    except (ValidationError, ValueError) as error:
        return _builder(request, engine, office_areas, session, 422, form, _invalid_text(error))
    audited: dict[str, Any] = body.model_dump(mode="json", exclude_defaults=True)
    audited["must_include"] = len(body.must_include)
    try:
        plan, _made = await run_in_threadpool(
            build_plan, engine, body, office_areas, session.key.key_id
        )
    except Problem as problem:
        record_access(engine, session.key, "POST", endpoint, audited, 0, problem.status)
        return _builder(
            request, engine, office_areas, session, problem.status, form, _problem_text(problem)
        )
    audited["plan_id"] = plan.plan_id
    record_access(engine, session.key, "POST", endpoint, audited, len(plan.visits), 201)
    return RedirectResponse(
        f"{PREFIX}/plans/{quote(plan.plan_id)}", status_code=303, headers=SECURITY_HEADERS
    )


def _invalid_text(error: ValidationError | ValueError) -> str:
    if isinstance(error, ValidationError):
        return "; ".join(
            f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in error.errors()
        )
    return str(error)


def _plan_request(form: dict[str, str]) -> PlanRequest:
    """The builder's fields as a :class:`PlanRequest` (the API's own validation)."""
    offices: dict[str, OfficeRequest] = {}
    for field, value in form.items():
        if field.startswith("capacity:") and value.strip():
            offices[field.removeprefix("capacity:")] = OfficeRequest(capacity=int(value))
    extra_name = form.get("new_office", "").strip()
    if extra_name and form.get("new_capacity", "").strip():
        states = [s.strip() for s in form.get("new_states", "").split(",") if s.strip()]
        offices[extra_name] = OfficeRequest(
            capacity=int(form["new_capacity"]), states=states or None
        )
    if not offices:
        raise ValueError("offices: give at least one office a capacity")
    must = [line.strip() for line in form.get("must_include", "").splitlines() if line.strip()]
    return PlanRequest(
        offices=offices,
        category=form.get("category") or "any",
        must_include=must,
        include_open_remediations=form.get("include_open_remediations") == "on",
        exclude_inspected_within_days=int(form.get("exclude_inspected_within_days") or 0),
        exploration_share=float(form.get("exploration_share") or 0) / 100,
    )


def _plan_or_refusal(
    request: Request, engine: sa.Engine, session: UiSession, plan_id: str, view: str
) -> Any:
    if not _allowed(session, Role.planner):
        return _refuse(request, session, 403, TEXTS[_language(request)]["forbidden"])
    endpoint = f"{PREFIX}/plans/{{plan_id}}"
    audited = {"plan_id": plan_id, "view": view}
    with engine.connect() as connection:
        plan = read_plan(connection, plan_id)
    if plan is None:
        record_access(engine, session.key, "GET", endpoint, audited, 0, 404)
        return _refuse(request, session, 404, TEXTS[_language(request)]["not_found"])
    record_access(engine, session.key, "GET", endpoint, audited, len(plan.visits), 200)
    return plan


def _directory(engine: sa.Engine, ids: list[str]) -> dict[str, dict[str, str | None]]:
    table = schema.employers
    out: dict[str, dict[str, str | None]] = {}
    with engine.connect() as connection:
        for start in range(0, len(ids), 5_000):
            rows = connection.execute(
                sa.select(table.c.employer_id, table.c.name, table.c.state, table.c.sector).where(
                    table.c.employer_id.in_(ids[start : start + 5_000])
                )
            )
            for row in rows:
                out[row.employer_id] = {"name": row.name, "state": row.state, "sector": row.sector}
    return out


@router.get("/plans/{plan_id}")
def plan_page(
    request: Request,
    engine: EngineDep,
    session: SessionDep,
    plan_id: Annotated[str, Path(min_length=1, max_length=64)],
) -> Response:
    plan = _plan_or_refusal(request, engine, session, plan_id, "page")
    if isinstance(plan, Response):
        return plan
    directory = _directory(engine, [v.employer_id for v in plan.visits])
    return render(request, "plan.html", session, plan=plan, directory=directory)


#: The other views of a plan: the printable page and the two downloads.
PlanView = Literal["print", "export.csv", "export.xlsx"]
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@router.get("/plans/{plan_id}/{view}")
def plan_view(
    request: Request,
    engine: EngineDep,
    session: SessionDep,
    plan_id: Annotated[str, Path(min_length=1, max_length=64)],
    view: PlanView,
) -> Response:
    plan = _plan_or_refusal(request, engine, session, plan_id, view)
    if isinstance(plan, Response):
        return plan
    if view == "export.csv":
        content, media_type = plan_csv(plan).encode(), "text/csv"
    else:
        directory = _directory(engine, [v.employer_id for v in plan.visits])
        if view == "print":
            return render(request, "plan_print.html", session, plan=plan, directory=directory)
        content, media_type = plan_workbook(plan, directory), XLSX
    filename = f"{plan.plan_id}.{view.removeprefix('export.')}"
    return Response(
        content,
        media_type=media_type,
        headers={**SECURITY_HEADERS, "Content-Disposition": f'attachment; filename="{filename}"'},
    )


# -- models -----------------------------------------------------------------------------


@router.get("/models")
def models(
    request: Request, settings: SettingsDep, engine: EngineDep, session: SessionDep
) -> HTMLResponse:
    if not _allowed(session, Role.data_scientist):
        return _refuse(request, session, 403, TEXTS[_language(request)]["forbidden"])
    try:
        catalogue = model_catalogue(settings)
    except Problem as problem:
        return _refuse(request, session, problem.status, _problem_text(problem))
    shown = catalogue.champion or (catalogue.versions[0].version if catalogue.versions else None)
    monitoring, plots = None, []
    if shown is not None:
        plots = run_plots(settings, shown)
        stored = latest_report(engine, MODEL_NAME, shown)
        monitoring = {
            "drift": stored[1] if stored else None,
            "hit_rate": realised_hit_rates(engine, MODEL_NAME, shown, settings.hit_rate_warning_z),
        }
    return render(
        request,
        "models.html",
        session,
        catalogue=catalogue,
        shown=shown,
        plots=plots,
        monitoring=monitoring,
    )


@router.get("/models/{version}/plots/{name}")
def model_plot(
    request: Request,
    settings: SettingsDep,
    session: SessionDep,
    version: Annotated[str, Path(pattern=r"^[0-9]{1,9}$")],
    name: Annotated[str, Path(max_length=64)],
) -> Response:
    if not _allowed(session, Role.data_scientist):
        return _refuse(request, session, 403, TEXTS[_language(request)]["forbidden"])
    try:
        image = run_plot(settings, version, name)
    except Problem as problem:
        return _refuse(request, session, problem.status, _problem_text(problem))
    return Response(image, media_type="image/png", headers=SECURITY_HEADERS)


# -- inspection activity ----------------------------------------------------------------


@router.get("/activity")
def activity(
    request: Request,
    engine: EngineDep,
    session: SessionDep,
    years: Annotated[int, Query(ge=1, le=10)] = 2,
) -> HTMLResponse:
    """The inspectorate's own record; no employer risk, so not an audited list."""
    with engine.connect() as connection:
        last = connection.execute(sa.select(sa.func.max(schema.inspections.c.date))).scalar()
        if last is None:
            return render(request, "activity.html", session, report=None, years=years)
        last_day = last.date() if hasattr(last, "date") else last
        since = last_day - timedelta(days=round(365.25 * years))
        report = inspection_activity(connection, since)
    return render(request, "activity.html", session, report=report, years=years)
