"""Payment files of a signed bordereau: a CSV for the accounting system, an ISO 20022 pain.001.

Both list the transfers the signature ordered and the bank did not return: the lines still
pending and those already paid. A rejected line's act has left the bordereau (finance presents
it again on another one, or cancels it), so no file orders it twice. The files are made from
what was stored at signature (line amounts, act snapshots, signature time): downloaded again,
a file is the same, byte for byte, unless a line was rejected in between.

Amounts are integers: the franc CFP (XPF) has no minor unit (ISO 4217), so the pain.001 says
"150000", never "150000.00" (sepaxml writes cents, which is why it is not used to build it).
The columns and the pain.001.001.03 mapping are documented in docs/payment-files.md.
"""

import csv
import importlib.resources
import io
import re
import textwrap
import unicodedata
from collections.abc import Mapping
from datetime import date, datetime, timedelta
from functools import cache
from zoneinfo import ZoneInfo

from flask_babel import gettext as _
from lxml import etree
from lxml.builder import ElementMaker

from forms_app.models import Bordereau, BordereauLine, BordereauState, LineStatus

NOUMEA = ZoneInfo("Pacific/Noumea")
CURRENCY = "XPF"
PAIN_001 = "urn:iso:std:iso:20022:tech:xsd:pain.001.001.03"
XSD_NAME = "pain.001.001.03.xsd"
# Outside SEPA: each side pays its own bank's charges (SLEV only means something under a
# service level such as SEPA, which an XPF transfer is not).
CHARGE_BEARER = "SHAR"
CSV_HEADER = (
    "bordereau",
    "mandat",
    "dossier",
    "beneficiaire",
    "ridet",
    "iban",
    "bic",
    "montant",
    "devise",
    "imputation",
    "objet",
    "date_signature",
)
# A cell starting with one of these is a formula to a spreadsheet: it gets a leading apostrophe.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
NAME_MAX = 70  # Cdtr/Nm: the schema allows 140, banks' guidelines (and SWIFT) keep 70
ADDRESS_LINE_MAX = 70
REMITTANCE_MAX = 140
_BIC = re.compile(r"[A-Z]{6}[A-Z2-9][A-NP-Z0-9](?:[A-Z0-9]{3})?")
_SPACES = re.compile(r"\s+")


class PaymentFileError(ValueError):
    """No payment file can be made for this bordereau now; the message is in French."""


def ordered_lines(bordereau: Bordereau) -> list[BordereauLine]:
    """The lines a payment file lists: ordered by the signature, not returned by the bank."""
    if bordereau.state not in (BordereauState.SIGNED, BordereauState.PAID):
        raise PaymentFileError(
            _("Les fichiers de virement n’existent qu’une fois le bordereau signé.")
        )
    lines = [line for line in bordereau.lines if line.status != LineStatus.REJECTED]
    if not lines:
        raise PaymentFileError(
            _("Aucun virement à ordonner : tous les mandats de ce bordereau ont été rejetés.")
        )
    return lines


def csv_file(bordereau: Bordereau) -> bytes:
    """The transfers as CSV for the accounting system: UTF-8 with BOM, semicolons, CRLF."""
    lines = ordered_lines(bordereau)
    signed_on = local_date(bordereau.signed_at).strftime("%d/%m/%Y")
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";", lineterminator="\r\n")
    writer.writerow(CSV_HEADER)
    for line in lines:
        act = line.act
        cells = (
            bordereau.number,
            line.act_number,
            act.details.get("dossier_no"),
            act.beneficiary.get("name"),
            act.beneficiary.get("ridet"),
            compact(act.bank.get("iban")),
            compact(act.bank.get("bic")),
            line.amount,
            CURRENCY,
            act.details.get("imputation"),
            act.details.get("objet"),
            signed_on,
        )
        writer.writerow([cell if isinstance(cell, int) else safe(text(cell)) for cell in cells])
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def pain001(bordereau: Bordereau, config: Mapping) -> bytes:
    """The transfers as an ISO 20022 pain.001.001.03 credit transfer initiation (UTF-8 XML).

    Checked against the schema when sepaxml (which ships the XSD) is installed.
    """
    lines = ordered_lines(bordereau)
    signed = bordereau.signed_at.astimezone(NOUMEA)
    message_id = f"BORD-{bordereau.number}-{bordereau.id}"  # numbers repeat across budgets
    count, total = str(len(lines)), str(sum(line.amount for line in lines))
    debtor = text(config["DEBTOR_NAME"])[:NAME_MAX]
    e = ElementMaker(namespace=PAIN_001, nsmap={None: PAIN_001})
    document = e.Document(
        e.CstmrCdtTrfInitn(
            e.GrpHdr(
                e.MsgId(message_id),
                e.CreDtTm(signed.replace(microsecond=0).isoformat()),
                e.NbOfTxs(count),
                e.CtrlSum(total),
                e.InitgPty(e.Nm(debtor)),
            ),
            e.PmtInf(
                e.PmtInfId(message_id),
                e.PmtMtd("TRF"),
                e.BtchBookg("true"),
                e.NbOfTxs(count),
                e.CtrlSum(total),
                e.ReqdExctnDt(execution_date(signed.date()).isoformat()),
                e.Dbtr(e.Nm(debtor)),
                e.DbtrAcct(e.Id(e.IBAN(compact(config["DEBTOR_IBAN"]))), e.Ccy(CURRENCY)),
                e.DbtrAgt(_institution(e, config.get("DEBTOR_BIC"))),
                e.ChrgBr(CHARGE_BEARER),
                *(_transaction(e, line) for line in lines),
            ),
        )
    )
    content = etree.tostring(document, xml_declaration=True, encoding="UTF-8", pretty_print=True)
    errors = schema_errors(content)
    if errors:
        raise PaymentFileError(
            _(
                "Le fichier de virement n’est pas conforme au schéma pain.001.001.03 : %(errors)s",
                errors=" ; ".join(errors[:3]),
            )
        )
    return content


def _transaction(e: ElementMaker, line: BordereauLine) -> etree._Element:
    """One CdtTrfTxInf: the act number as EndToEndId, the amount in whole francs CFP."""
    act = line.act
    name = text(act.beneficiary.get("name") or act.bank.get("holder"))[:NAME_MAX].rstrip()
    if not name:
        raise PaymentFileError(
            _("Le mandat %(number)s n’a pas de bénéficiaire.", number=act.number)
        )
    creditor = [e.Nm(name)]
    address = textwrap.wrap(text(act.beneficiary.get("address")), ADDRESS_LINE_MAX)[:2]
    if address:
        creditor.append(e.PstlAdr(*(e.AdrLine(part) for part in address)))
    parts = [
        e.PmtId(e.EndToEndId(line.act_number)),
        e.Amt(e.InstdAmt(str(line.amount), Ccy=CURRENCY)),
    ]
    bic = compact(act.bank.get("bic"))
    if _BIC.fullmatch(bic):
        parts.append(e.CdtrAgt(e.FinInstnId(e.BIC(bic))))
    remittance = (
        f"Mandat {line.act_number} dossier {act.details.get('dossier_no') or ''} – "
        f"{text(act.details.get('objet'))}"
    )
    parts += [
        e.Cdtr(*creditor),
        e.CdtrAcct(e.Id(e.IBAN(compact(act.bank.get("iban"))))),
        e.RmtInf(e.Ustrd(text(remittance)[:REMITTANCE_MAX].rstrip())),
    ]
    return e.CdtTrfTxInf(*parts)


def _institution(e: ElementMaker, bic: str | None) -> etree._Element:
    """FinInstnId by BIC, or "NOTPROVIDED" (the usual placeholder) without a valid one."""
    bic = compact(bic)
    if _BIC.fullmatch(bic):
        return e.FinInstnId(e.BIC(bic))
    return e.FinInstnId(e.Othr(e.Id("NOTPROVIDED")))


def execution_date(signed_on: date) -> date:
    """The day the bank is asked to pay: the signature day, or the Monday after a weekend.

    Public holidays are the bank's to know: it moves the date to its next business day.
    """
    while signed_on.weekday() >= 5:
        signed_on += timedelta(days=1)
    return signed_on


@cache
def _schema() -> etree.XMLSchema | None:
    try:
        resource = importlib.resources.files("sepaxml") / "schemas" / XSD_NAME
    except ModuleNotFoundError:
        return None
    with importlib.resources.as_file(resource) as path:
        return etree.XMLSchema(etree.parse(str(path))) if path.exists() else None


def schema_errors(document: bytes) -> list[str] | None:
    """What the pain.001.001.03 XSD finds wrong in `document` ([] if valid); None without it."""
    schema = _schema()
    if schema is None:
        return None
    parser = etree.XMLParser(resolve_entities=False, no_network=True)
    if schema.validate(etree.fromstring(document, parser)):
        return []
    return [f"{error.line}: {error.message}" for error in schema.error_log]


def local_date(moment: datetime) -> date:
    """The date in Nouméa of a stored (UTC) time."""
    return moment.astimezone(NOUMEA).date()


def text(value: object) -> str:
    """Printable, one-line text: control and invisible characters dropped, spaces collapsed."""
    if value is None:
        return ""
    normal = unicodedata.normalize("NFC", str(value))
    kept = "".join(
        " " if char.isspace() else char
        for char in normal
        if char.isspace() or not unicodedata.category(char).startswith("C")
    )
    return _SPACES.sub(" ", kept).strip()


def compact(value: object) -> str:
    """An IBAN or a BIC without spaces, upper case."""
    return "".join(str(value or "").split()).upper()


def safe(value: str) -> str:
    """Keep a cell inert in a spreadsheet: text that looks like a formula starts with '."""
    return "'" + value if value.startswith(FORMULA_START) else value
