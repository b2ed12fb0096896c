"""Dashboards (pictures, not tables) of all forms or one, and their statistics exports.

The figures come from `dashboards.figures` (cached aggregates); this module turns them into
charts with French labels, and into two CSV files: the figures in a long format, and the
granted aids in the SCDL open-data format (`scdl`).
"""

import csv
import io
import itertools
from collections.abc import Iterator
from datetime import date, datetime
from typing import Any

from flask import Response, abort, current_app, render_template, request, stream_with_context
from flask_babel import format_decimal
from flask_babel import gettext as _
from sqlalchemy import select

from forms_app import charts, dashboards, scdl
from forms_app.backoffice.exports import safe
from forms_app.db import get_session, utcnow
from forms_app.filters import local_time
from forms_app.models import Form, Role
from forms_app.ops import bp
from forms_app.permissions import roles_required
from workflows import states

DASHBOARD_ROLES = (Role.AGENT, Role.APPROVER, Role.FINANCE, Role.ADMIN)
SCDL_ROLES = (Role.ADMIN, Role.FINANCE)
# Most active agents shown one by one in the weekly chart; the rest are summed.
TOP_AGENTS = 7


def period_days() -> tuple[int, str | None]:
    """The period the reader chose (`?jours=`), 30 days by default, and the error if any."""
    raw = request.args.get("jours", "")
    if raw.isdigit() and int(raw) in dashboards.PERIODS:
        return int(raw), None
    if not raw:
        return dashboards.DEFAULT_PERIOD, None
    return dashboards.DEFAULT_PERIOD, _("Choisissez une période de la liste.")


def get_form_or_404(slug: str) -> Form:
    form = get_session().scalar(select(Form).where(Form.slug == slug))
    if form is None or form.current_version_id is None:
        abort(404)
    return form


@bp.get("/", endpoint="dashboard")
@roles_required(*DASHBOARD_ROLES)
def dashboard():
    """The dashboard of every form, with the list of forms leading to theirs."""
    session = get_session()
    forms = session.scalars(
        select(Form).where(Form.current_version_id.is_not(None)).order_by(Form.slug)
    ).all()
    return _render(None, forms)


@bp.get("/formulaires/<slug>", endpoint="form_dashboard")
@roles_required(*DASHBOARD_ROLES)
def form_dashboard(slug: str):
    """The dashboard of one form."""
    return _render(get_form_or_404(slug), [])


def _render(form: Form | None, forms: list[Form]):
    days, error = period_days()
    data = dashboards.figures(get_session(), utcnow(), form.id if form else None, days=days)
    page = render_template(
        "ops/dashboard.html",
        form=form,
        forms=forms,
        days=days,
        periods=dashboards.PERIODS,
        period_error=error,
        data=data,
        shown={
            "first": date.fromisoformat(data["period"]["first"]).strftime("%d/%m/%Y"),
            "last": date.fromisoformat(data["period"]["last"]).strftime("%d/%m/%Y"),
            "generated": local_time(datetime.fromisoformat(data["generated_at"])),
        },
        charts=build_charts(data),
    )
    return page, 400 if error else 200


def _day(iso: str) -> str:
    return date.fromisoformat(iso).strftime("%d/%m")


def age_labels(limits: tuple[int, ...]) -> list[str]:
    """ "moins de 7 jours", "7 à 14 jours", …, "30 jours et plus"."""
    labels = [_("moins de %(num)s jours", num=limits[0])]
    labels += [_("%(low)s à %(high)s jours", low=a, high=b) for a, b in itertools.pairwise(limits)]
    return [*labels, _("%(num)s jours et plus", num=limits[-1])]


def build_charts(data: dict[str, Any]) -> dict[str, charts.Chart]:
    """Every chart of a dashboard, from its figures, with labels in the reader's language."""
    day = _("Jour")
    funnel = data["funnel"]
    amounts = data["amounts"]
    backlog = data["backlog"]
    ages = age_labels(dashboards.AGE_CLASSES)
    result = {
        "submissions": charts.bar_chart(
            _("Demandes déposées par jour"),
            [(_day(d), n) for d, n in data["submissions_per_day"]],
            description=_("Jours en heure de Nouméa."),
            category=day,
        ),
        "funnel": charts.hbar_chart(
            _("Parcours des demandes commencées sur la période"),
            [
                (_("Commencées"), funnel["draft"]),
                (_("Déposées"), funnel["submitted"]),
                (_("Acceptées"), funnel["approved"]),
                (_("Payées"), funnel["paid"]),
            ],
            description=_("Chaque étape compte les demandes qui l’ont atteinte."),
            summable=False,
            category=_("Étape"),
        ),
        "backlog": charts.stacked_chart(
            _("Demandes en cours par état et ancienneté"),
            [str(states.label(state)) for state in backlog],
            [(age, [counts[i] for counts in backlog.values()]) for i, age in enumerate(ages)],
            description=_("Ancienneté comptée depuis le dépôt."),
            category=_("État"),
        ),
        "delays": charts.bar_chart(
            _("Délai entre le dépôt et le paiement"),
            list(zip(age_labels(dashboards.DELAY_CLASSES), data["payment_delays"], strict=True)),
            description=delay_text(data["median_days_to_payment"]),
            category=_("Délai"),
        ),
        "amounts": charts.hbar_chart(
            _("Montants au regard de l’enveloppe budgétaire"),
            [
                (_("Proposé"), amounts["proposed"]),
                (_("Accordé"), amounts["approved"]),
                (_("Payé"), amounts["paid"]),
            ],
            unit="F CFP",
            reference=(amounts["envelope"], _("Enveloppe")) if amounts["envelope"] else None,
            summable=False,
            category=_("Montant"),
            description=_("Accordé inclut ce qui est payé."),
        ),
        "reports": charts.bar_chart(
            _("Signalements de problèmes par jour"),
            [(_day(d), n) for d, n in data["problem_reports_per_day"]],
            description=_("Jours en heure de Nouméa."),
            category=day,
        ),
    }
    result.update(agent_charts(data["throughput"]))
    return result


def delay_text(median: float | None) -> str:
    text = _("Demandes payées sur la période.")
    if median is None:
        return text
    return text + " " + _("Délai médian : %(days)s jours.", days=format_decimal(median))


def agent_charts(throughput: dict[str, Any]) -> dict[str, charts.Chart]:
    """Actions per week (the most active agents, the rest summed) and decisions per agent."""
    agents = throughput["agents"]
    shown = agents[:TOP_AGENTS]
    series = [(a["name"], a["actions"]) for a in shown]
    rest = agents[TOP_AGENTS:]
    if rest:
        summed = [sum(a["actions"][i] for a in rest) for i in range(len(throughput["weeks"]))]
        series.append((_("Autres agents"), summed))
    return {
        "actions": charts.stacked_chart(
            _("Actions des agents par semaine"),
            [_("sem. du %(day)s", day=_day(week)) for week in throughput["weeks"]],
            series,
            description=_("Actions d’instruction et décisions inscrites au journal."),
            category=_("Semaine"),
        ),
        "decisions": charts.hbar_chart(
            _("Décisions par agent sur la période"),
            [(a["name"], sum(a["decisions"])) for a in agents],
            description=_("Propositions, validations, refus, renvois et classements."),
            category=_("Agent"),
        ),
    }


def statistics_rows(data: dict[str, Any]) -> Iterator[list[Any]]:
    """The figures in the long format of docs/ops.md: indicateur, categorie, detail, valeur."""
    period = data["period"]
    yield ["periode", "premier_jour", "", period["first"]]
    yield ["periode", "dernier_jour", "", period["last"]]
    for day, count in data["submissions_per_day"]:
        yield ["depots_par_jour", day, "", count]
    for step, count in data["funnel"].items():
        yield ["parcours", step, "", count]
    ages = _class_codes(dashboards.AGE_CLASSES)
    for state, counts in data["backlog"].items():
        for age, count in zip(ages, counts, strict=True):
            yield ["stock", state, age, count]
    median = data["median_days_to_payment"]
    median = "" if median is None else str(median).replace(".", ",")  # a French spreadsheet
    yield ["delai_median_paiement_jours", "", "", median]
    delays = _class_codes(dashboards.DELAY_CLASSES)
    for delay, count in zip(delays, data["payment_delays"], strict=True):
        yield ["delai_paiement", delay, "", count]
    weeks = data["throughput"]["weeks"]
    for agent in data["throughput"]["agents"]:
        for week, actions, decisions in zip(
            weeks, agent["actions"], agent["decisions"], strict=True
        ):
            yield ["actions_agent", agent["name"], week, actions]
            yield ["decisions_agent", agent["name"], week, decisions]
    for name, value in data["amounts"].items():
        yield ["montants", name, "", "" if value is None else value]
    for day, count in data["problem_reports_per_day"]:
        yield ["signalements_par_jour", day, "", count]


def _class_codes(limits: tuple[int, ...]) -> list[str]:
    """ "0-7", "7-14", …, "30+": the age or delay classes, in days."""
    bounds = (0, *limits)
    return [f"{a}-{b}" for a, b in zip(bounds, limits, strict=False)] + [f"{limits[-1]}+"]


def _csv(lines: Iterator[list[Any]], header: list[str], filename: str, *, excel: bool) -> Response:
    """Stream a CSV: semicolons and a BOM for spreadsheets (`excel`), plain RFC 4180 otherwise."""

    def generate():
        buffer = io.StringIO()
        writer = csv.writer(buffer, delimiter=";" if excel else ",", lineterminator="\r\n")
        if excel:
            buffer.write("\ufeff")
        writer.writerow(header)
        for number, line in enumerate(lines, 1):
            writer.writerow([safe(cell) for cell in line])
            if number % 200 == 0:
                yield buffer.getvalue()
                buffer.seek(0)
                buffer.truncate()
        yield buffer.getvalue()

    return Response(
        stream_with_context(generate()),
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


@bp.get("/statistiques.csv", endpoint="statistics_csv", defaults={"slug": None})
@bp.get("/formulaires/<slug>/statistiques.csv", endpoint="statistics_csv")
@roles_required(*DASHBOARD_ROLES)
def statistics_csv(slug: str | None):
    """The dashboard's figures (all forms, or one) as a CSV file in the long format."""
    form = get_form_or_404(slug) if slug else None
    days, error = period_days()
    if error:
        abort(400)
    data = dashboards.figures(get_session(), utcnow(), form.id if form else None, days=days)
    name = f"statistiques-{slug or 'tous-formulaires'}-{data['period']['last']}.csv"
    header = ["indicateur", "categorie", "detail", "valeur"]
    return _csv(statistics_rows(data), header, name, excel=True)


@bp.get("/subventions.csv", endpoint="scdl_csv")
@roles_required(*SCDL_ROLES)
def scdl_csv():
    """Granted aids in the SCDL "subventions" format, for publication as open data."""
    config = current_app.config
    name, identifier = config["SCDL_ATTRIBUTOR_NAME"], config["SCDL_ATTRIBUTOR_ID"]

    def lines() -> Iterator[list[Any]]:
        # The session is taken while streaming: the view's own is closed when it returns.
        yield from scdl.rows(get_session(), name, identifier)

    filename = f"subventions-{(utcnow() + dashboards.LOCAL_OFFSET).date().isoformat()}.csv"
    return _csv(lines(), list(scdl.COLUMNS), filename, excel=False)
