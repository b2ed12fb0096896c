"""Shared steps of the applicant journeys: the two demo forms filled page by page, as people do.

Every step finds elements by role and accessible name, types with fill(), and checks the page
it lands on with axe-core (`assert_accessible`) before touching it.
"""

import re
import struct
import zlib
from collections.abc import Callable

from playwright.sync_api import Locator, Page, expect

from tests.browser.support import assert_accessible

RAPA = "signalement-rapatriement"
AIDE = "aide-entreprises-covid"
RAPA_EMAIL = "lea.martin@exemple.nc"
AIDE_EMAIL = "contact@lagonbleu.nc"
CHECK_TITLE = "Vérifiez vos réponses avant d’envoyer votre demande"

# A tiny valid PDF, and a real 1×1 PNG: the server reads the type from the content.
PDF = (
    b"%PDF-1.4\n1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj\n"
    b"2 0 obj << /Type /Pages /Kids [] /Count 0 >> endobj\n"
    b"trailer << /Root 1 0 R >>\n%%EOF\n"
)


def _png() -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)  # 1×1, 8 bits, RGB
    pixels = zlib.compress(b"\x00\x2a\x6e\xb4")
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")
    )


PNG = _png()


def pdf(name: str) -> dict:
    return {"name": name, "mimeType": "application/pdf", "buffer": PDF}


def png(name: str) -> dict:
    return {"name": name, "mimeType": "image/png", "buffer": PNG}


# --- Generic steps ------------------------------------------------------------------------


def heading(page: Page) -> Locator:
    return page.get_by_role("heading", level=1)


def on_page(page: Page, title: str) -> None:
    """The page titled `title` is shown, and axe finds nothing serious on it."""
    expect(heading(page)).to_have_text(title)
    assert_accessible(page)


def start(page: Page, url: str, title: str) -> None:
    """Open a form's start page and press "Commencer"."""
    page.goto(url)
    on_page(page, title)
    page.get_by_role("button", name="Commencer").click()


def go_on(page: Page) -> None:
    page.get_by_role("button", name="Continuer", exact=True).click()


def choose(page: Page, question: str, answer: str, exact: bool = True) -> None:
    """Tick the radio (or checkbox) labelled `answer` in the group asking `question`."""
    page.get_by_role("group", name=question).get_by_label(answer, exact=exact).check()


def pick(page: Page, label: str, option: str) -> None:
    """Choose an option of a visible drop-down list by its text."""
    page.get_by_role("combobox", name=label, exact=True).select_option(label=option)


def type_in(page: Page, label: str, value: str) -> None:
    """Type in the visible text box labelled `label` (exact name, "(facultatif)" included)."""
    box = page.get_by_role("textbox", name=label, exact=True)
    box.fill(value)


def answer_of(page: Page, label: str) -> Locator:
    """The answer shown for `label` on the check page."""
    row = page.locator(".summary-list__row").filter(
        has=page.get_by_role("term").filter(has_text=re.compile(f"^{re.escape(label)}$"))
    )
    return row.get_by_role("definition").first


Step = tuple[str, Callable[[Page], None]]


def fill_pages(page: Page, steps: list[Step]) -> None:
    """For each page: check it is the expected one and accessible, fill it, "Continuer"."""
    for title, fill in steps:
        on_page(page, title)
        fill(page)
        go_on(page)


def submit_from_check_page(page: Page, prefix: str) -> str:
    """Send the request from the check page; return the reference acknowledged."""
    page.get_by_role("button", name="Envoyer ma demande").click()
    on_page(page, "Demande envoyée")
    reference = page.locator(".panel__body strong")
    expect(reference).to_have_text(re.compile(rf"^{prefix}-\d{{4}}-\d{{6}}$"))
    return reference.inner_text()


# --- Repatriation registration --------------------------------------------------------------

RAPA_TITLE = "Signalement – résident de la province Sud bloqué hors du territoire"


def rapa_identity(page: Page) -> None:
    choose(page, "Civilité", "Madame")
    type_in(page, "Nom de naissance", "Martin")
    type_in(page, "Prénoms", "Léa Marie")
    page.get_by_label("Date de naissance").fill("1994-06-12")
    type_in(page, "Lieu de naissance", "Nouméa (Nouvelle-Calédonie)")
    type_in(page, "Numéro de passeport", "19AB12345")
    page.get_by_label("Date d'expiration du passeport").fill("2027-05-01")


def rapa_residence(page: Page) -> None:
    type_in(page, "Numéro et voie", "12 rue de Sébastopol")
    type_in(page, "Code postal", "98800")
    type_in(page, "Commune ou ville", "Nouméa")
    choose(page, "Province de résidence", "Province Sud")
    pick(page, "Commune de résidence", "Nouméa")
    page.get_by_label("Vous résidez en Nouvelle-Calédonie depuis le").fill("1994-06-12")


def rapa_situation(page: Page) -> None:
    pick(page, "Pays où vous vous trouvez actuellement", "Nouvelle-Zélande")
    type_in(page, "Ville", "Auckland")
    choose(page, "Où êtes-vous hébergé(e) ?", "Chez des amis")
    choose(page, "Êtes-vous hébergé(e) gratuitement ?", "Oui")
    pick(page, "Motif de votre séjour", "Visite familiale")
    page.get_by_label("Date de votre départ de Nouvelle-Calédonie").fill("2020-03-02")


def rapa_return(page: Page) -> None:
    choose(page, "Avez-vous un billet retour vers la Nouvelle-Calédonie ?", "Oui")
    pick(page, "Compagnie aérienne", "Aircalin")
    type_in(page, "Référence de réservation (PNR) (facultatif)", "K7XQ2B")
    page.get_by_label("Date de retour initialement prévue").fill("2020-03-24")
    page.get_by_label("Date d'émission du billet").fill("2020-01-10")
    choose(page, "Votre vol a-t-il été annulé ?", "Oui")


def rapa_health(page: Page) -> None:
    for question in (
        "Vous-même ou une personne de votre groupe avez-vous un problème de santé",
        "Suivez-vous un traitement médical en cours ?",
        "Vous-même ou une personne de votre groupe êtes-vous enceinte ?",
        "Vous-même ou une personne de votre groupe êtes-vous en situation de handicap",
        "Avez-vous des symptômes de la COVID-19",
    ):
        choose(page, question, "Non")


def rapa_profession(page: Page) -> None:
    type_in(page, "Profession (facultatif)", "Infographiste")
    choose(page, "Êtes-vous un professionnel de santé ?", "Non")
    choose(page, "Exercez-vous un métier essentiel", "Non")


def rapa_finances(page: Page) -> None:
    choose(
        page,
        "Rencontrez-vous des difficultés financières ?",
        "Oui, des difficultés graves",
        exact=False,
    )
    choose(page, "Souhaitez-vous demander l'aide financière exceptionnelle", "Oui")


def rapa_group(page: Page) -> None:
    choose(page, "D'autres personnes de votre foyer sont-elles bloquées avec vous ?", "Oui")
    person = page.get_by_role("group", name="Personne 1")
    person.get_by_role("textbox", name="Nom", exact=True).fill("Martin")
    person.get_by_role("textbox", name="Prénom", exact=True).fill("Hugo")
    person.get_by_label("Date de naissance").fill("1991-02-03")
    person.get_by_role("combobox", name="Lien avec vous").select_option(
        label="Conjoint ou conjointe"
    )


def rapa_contact(page: Page, email: str = RAPA_EMAIL) -> None:
    type_in(page, "Téléphone où l'on peut vous joindre", "+64 21 123 4567")
    type_in(page, "Adresse e-mail", email)
    type_in(page, "Personne à prévenir en Nouvelle-Calédonie (nom et prénom) (facultatif)",
            "Anne Martin")  # fmt: skip
    type_in(page, "Téléphone de cette personne", "75.12.34")


def rapa_aid(page: Page) -> None:
    type_in(page, "Titulaire du compte", "Léa Martin")
    type_in(page, "IBAN du compte", "FR76 9999 9000 0100 0123 4567 809")
    page.get_by_label("Relevé d'identité bancaire (RIB)").set_input_files(pdf("rib-lea.pdf"))


def rapa_declarations(page: Page) -> None:
    page.get_by_label("J'atteste sur l'honneur l'exactitude").check()
    page.get_by_label("J'accepte que ces informations soient transmises").check()


RAPA_STEPS: list[Step] = [
    ("Identité", rapa_identity),
    ("Résidence en Nouvelle-Calédonie", rapa_residence),
    ("Votre situation actuelle", rapa_situation),
    ("Voyage retour", rapa_return),
    ("Santé", rapa_health),
    ("Profession", rapa_profession),
    ("Situation financière", rapa_finances),
    ("Composition du groupe", rapa_group),
    ("Vos coordonnées", rapa_contact),
    ("Aide financière de la province Sud", rapa_aid),
    ("Déclarations", rapa_declarations),
]


def expect_rapa_answers(page: Page) -> None:
    """The check page shows what the repatriation journey typed and chose."""
    on_page(page, CHECK_TITLE)
    expect(answer_of(page, "Nom de naissance")).to_have_text("Martin")
    expect(answer_of(page, "Numéro de passeport")).to_have_text("19AB12345")
    expect(answer_of(page, "Pays où vous vous trouvez actuellement")).to_have_text(
        "Nouvelle-Zélande"
    )
    expect(answer_of(page, "Référence de réservation (PNR)")).to_have_text("K7XQ2B")
    expect(answer_of(page, "Adresse e-mail")).to_have_text(RAPA_EMAIL)
    expect(answer_of(page, "Personnes qui vous accompagnent")).to_contain_text("Hugo")
    expect(answer_of(page, "Relevé d'identité bancaire (RIB)")).to_contain_text("rib-lea.pdf")
    expect(page.get_by_role("link", name="Modifier : Nom de naissance")).to_be_visible()


# --- Business emergency aid ---------------------------------------------------------------

AIDE_TITLE = "Aide exceptionnelle aux entreprises – plan d'urgence COVID-19"


def aide_business(page: Page) -> None:
    type_in(page, "Raison sociale ou nom du patenté", "SARL LAGON BLEU TOURS")
    type_in(page, "Numéro RIDET", "1234567.001")
    pick(page, "Forme juridique", "SARL ou EURL")
    type_in(page, "Code APE", "79.11Z")
    page.get_by_label("Date de création de l'entreprise").fill("2014-05-02")
    type_in(page, "Numéro et voie", "12 rue de Sébastopol")
    type_in(page, "Code postal", "98800")
    type_in(page, "Commune ou ville", "Nouméa")
    pick(page, "Commune du siège social", "Nouméa")
    choose(page, "Le siège social et l'activité de l'entreprise", "Oui")


def aide_manager(page: Page) -> None:
    choose(page, "Civilité", "Monsieur")
    type_in(page, "Nom", "Dupuis")
    type_in(page, "Prénom", "Paul")
    pick(page, "Qualité", "Gérant ou gérante")
    type_in(page, "Téléphone", "75.12.34")
    type_in(page, "Adresse e-mail", AIDE_EMAIL)


def aide_activity(page: Page) -> None:
    pick(page, "Secteur d'activité principal", "Agence de voyages ou de tourisme")
    type_in(page, "Effectif salarié au 29 février 2020", "1")
    choose(page, "Votre établissement a-t-il dû fermer", "Non")


def aide_turnover(page: Page) -> None:
    type_in(page, "Chiffre d'affaires de mars 2019", "2 400 000")
    type_in(page, "Chiffre d'affaires de mars 2020", "600 000")


def aide_requested(page: Page) -> None:
    choose(
        page, "Quelle(s) aide(s) demandez-vous ?", "Aide à la trésorerie (jusqu'à 1 500 000 F CFP)"
    )
    type_in(page, "Montant sollicité au titre de la trésorerie", "1 000 000")
    type_in(
        page,
        "Décrivez brièvement les difficultés de l'entreprise (facultatif)",
        "Annulation de toutes les excursions depuis le 20 mars.",
    )


def aide_other_aids(page: Page) -> None:
    choose(page, "Avez-vous demandé ou reçu l'aide du fonds de solidarité", "Oui")
    type_in(page, "Montant du fonds de solidarité", "178 950")
    choose(page, "Avez-vous mis des salariés au chômage partiel", "Non")
    choose(page, "Avez-vous obtenu un prêt garanti par l'État (PGE) ?", "Non")
    choose(page, "Avez-vous reçu la prime exceptionnelle", "Non")


def aide_bank(page: Page) -> None:
    type_in(page, "Titulaire du compte", "SARL LAGON BLEU TOURS")
    type_in(page, "IBAN", "FR76 9999 9000 0100 0123 4567 809")
    type_in(page, "BIC (facultatif)", "BCADNCNN")


def aide_files(page: Page) -> None:
    page.get_by_label("Avis de situation au RIDET").set_input_files(pdf("avis-ridet.pdf"))
    page.get_by_label("RIB au nom de l'entreprise").set_input_files(png("rib.png"))
    page.get_by_label("Pièce d'identité du dirigeant").set_input_files(pdf("identite.pdf"))
    page.get_by_label("Justificatifs du chiffre d'affaires").set_input_files(
        [pdf("tgc-mars-2019.pdf"), pdf("tgc-mars-2020.pdf")]
    )
    page.get_by_label("Justificatif d'effectif CAFAT").set_input_files(pdf("cafat.pdf"))


def aide_declarations(page: Page) -> None:
    for start_of_label in (
        "J'atteste sur l'honneur l'exactitude",
        "J'atteste que l'entreprise est à jour",
        "J'atteste que l'entreprise ne fait pas l'objet",
        "J'accepte que la province Sud contrôle",
        "J'accepte que les informations de cette demande",
    ):
        page.get_by_label(start_of_label).check()


AIDE_STEPS: list[Step] = [
    ("Entreprise", aide_business),
    ("Dirigeant et contact", aide_manager),
    ("Activité et effectif", aide_activity),
    ("Chiffre d'affaires", aide_turnover),
    ("Aide demandée", aide_requested),
    ("Autres aides", aide_other_aids),
    ("Coordonnées bancaires", aide_bank),
    ("Pièces justificatives", aide_files),
    ("Attestation sur l'honneur", aide_declarations),
]


def expect_aide_answers(page: Page) -> None:
    """The check page shows what the business-aid journey typed, chose and attached."""
    on_page(page, CHECK_TITLE)
    expect(answer_of(page, "Raison sociale ou nom du patenté")).to_have_text(
        "SARL LAGON BLEU TOURS"
    )
    expect(answer_of(page, "Effectif salarié au 29 février 2020")).to_have_text("1")
    expect(answer_of(page, "Quelle(s) aide(s) demandez-vous ?")).to_contain_text(
        "Aide à la trésorerie"
    )
    expect(answer_of(page, "RIB au nom de l'entreprise")).to_contain_text("rib.png")
    justifs = answer_of(page, "Justificatifs du chiffre d'affaires de mars 2019 et de mars 2020")
    expect(justifs).to_contain_text("tgc-mars-2019.pdf")
    expect(justifs).to_contain_text("tgc-mars-2020.pdf")
    expect(answer_of(page, "Justificatif d'effectif CAFAT")).to_contain_text("cafat.pdf")
