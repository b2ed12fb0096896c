"""The builder's web forms: new form, settings, pages, fields, rules, schedule, retention,
import."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import BooleanField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, Optional, Regexp

from forms_app import retention
from forms_app.builder.inputs import (
    AmountField,
    CheckboxListField,
    DateTextField,
    LocalDateTimeField,
    NumberField,
)

SLUG_PATTERN = r"^[a-z0-9]+(-[a-z0-9]+)*$"
KEY_PATTERN = r"^[a-z][a-z0-9_]{0,62}$"
KEY_MESSAGE = _l(
    "L’identifiant commence par une lettre minuscule et ne contient que des lettres "
    "minuscules, des chiffres et « _ » (63 caractères au plus)."
)
CODE = {"spellcheck": "false", "data-code": "json", "rows": 14}

TYPE_LABELS = {
    "text": _l("Texte court"),
    "textarea": _l("Texte long"),
    "email": _l("Adresse e-mail"),
    "phone": _l("Téléphone"),
    "integer": _l("Nombre entier"),
    "amount": _l("Montant en F CFP"),
    "date": _l("Date"),
    "choice": _l("Choix unique"),
    "multichoice": _l("Choix multiples"),
    "yesno": _l("Oui / non"),
    "consent": _l("Case à cocher (accord, attestation)"),
    "file": _l("Pièce jointe"),
    "ridet": _l("Numéro RIDET"),
    "iban": _l("IBAN"),
    "commune": _l("Commune de Nouvelle-Calédonie"),
    "country": _l("Pays"),
    "address": _l("Adresse postale"),
    "group": _l("Groupe répétable"),
    "heading": _l("Intertitre"),
    "paragraph": _l("Paragraphe d’information"),
}
OPERATORS = [
    SelectChoice("equals", _l("est égal à")),
    SelectChoice("not_equals", _l("est différent de")),
    SelectChoice("in", _l("est l’une des valeurs (séparées par des virgules)")),
    SelectChoice("contains", _l("contient (choix multiples)")),
    SelectChoice("gt", _l("est supérieur à")),
    SelectChoice("gte", _l("est supérieur ou égal à")),
    SelectChoice("lt", _l("est inférieur à")),
    SelectChoice("lte", _l("est inférieur ou égal à")),
    SelectChoice("filled", _l("est renseigné (oui) ou vide (non)")),
]


class CreateFormForm(FlaskForm):
    slug = StringField(
        _l("Identifiant dans l’adresse"),
        validators=[
            DataRequired(_l("Saisissez l’identifiant.")),
            Length(max=80, message=_l("Saisissez 80 caractères au plus.")),
            Regexp(
                SLUG_PATTERN,
                message=_l(
                    "L’identifiant ne contient que des lettres minuscules sans accent, des "
                    "chiffres et des tirets, par exemple aide-aux-etudiants."
                ),
            ),
        ],
    )
    title = StringField(
        _l("Titre"),
        validators=[
            DataRequired(_l("Saisissez le titre.")),
            Length(max=200, message=_l("Saisissez 200 caractères au plus.")),
        ],
    )


class CloneForm(CreateFormForm):
    """Same questions as a new form: the copy's identifier and title."""


class SettingsForm(FlaskForm):
    title = CreateFormForm.title
    description = TextAreaField(_l("Description"), validators=[Length(max=5000)])
    reference_prefix = StringField(
        _l("Préfixe des références"),
        validators=[
            Optional(),
            Regexp(r"^[A-Z]{2,8}$", message=_l("De 2 à 8 lettres majuscules, par exemple AIDE.")),
        ],
    )
    budget_envelope = AmountField(_l("Enveloppe budgétaire (F CFP)"))
    imputation = StringField(_l("Imputation budgétaire"), validators=[Length(max=200)])
    signer_title = StringField(_l("Qualité du signataire"), validators=[Length(max=200)])
    approval_threshold = AmountField(_l("Seuil de validation (F CFP)"))
    legal_references = TextAreaField(_l("Références juridiques (une par ligne)"))
    contact = TextAreaField(_l("Contact"), validators=[Length(max=1000)])


class AddPageForm(FlaskForm):
    title = StringField(
        _l("Titre de la nouvelle page"),
        validators=[DataRequired(_l("Saisissez le titre de la page.")), Length(max=200)],
    )
    key = StringField(
        _l("Identifiant (facultatif)"),
        validators=[Optional(), Regexp(KEY_PATTERN, message=KEY_MESSAGE)],
    )


class PageForm(FlaskForm):
    title = StringField(
        _l("Titre"),
        validators=[DataRequired(_l("Saisissez le titre de la page.")), Length(max=200)],
    )
    description = TextAreaField(_l("Texte d’introduction"), validators=[Length(max=5000)])
    condition_json = TextAreaField(_l("Afficher la page seulement si (JSON)"), render_kw=CODE)


class AddFieldForm(FlaskForm):
    type = SelectField(
        _l("Type de champ"),
        choices=[SelectChoice(value, label) for value, label in TYPE_LABELS.items()],
    )
    key = StringField(
        _l("Identifiant"),
        validators=[
            DataRequired(_l("Saisissez l’identifiant.")),
            Regexp(KEY_PATTERN, message=KEY_MESSAGE),
        ],
    )
    label = StringField(
        _l("Libellé (la question posée)"),
        validators=[DataRequired(_l("Saisissez le libellé.")), Length(max=500)],
    )
    page = SelectField(_l("Page"), choices=[])


class FieldEditForm(FlaskForm):
    """Every option a field may have; the template shows those of the field's type."""

    label = StringField(_l("Libellé"), validators=[Length(max=500)])
    hint = TextAreaField(_l("Aide sous le libellé"), validators=[Length(max=5000)])
    text = TextAreaField(_l("Texte affiché"), validators=[Length(max=5000)])
    required = BooleanField(_l("Réponse obligatoire"))
    default = StringField(_l("Valeur par défaut"))
    page = SelectField(_l("Page"), choices=[])
    choices = TextAreaField(_l("Choix proposés (un par ligne : valeur|libellé)"))
    widget = SelectField(
        _l("Présentation"),
        choices=[
            SelectChoice("radio", _l("Boutons radio")),
            SelectChoice("select", _l("Liste déroulante")),
        ],
    )
    region = SelectField(
        _l("Format attendu"),
        choices=[
            SelectChoice("NC", _l("Nouvelle-Calédonie")),
            SelectChoice("international", _l("International")),
        ],
    )
    accept = CheckboxListField(
        _l("Formats acceptés"),
        choices=[
            SelectChoice("pdf", "PDF"),
            SelectChoice("jpeg", "JPEG"),
            SelectChoice("png", "PNG"),
        ],
    )
    max_size_mb = NumberField(_l("Taille maximale par fichier (Mo)"), minimum=0)
    max_files = NumberField(_l("Nombre maximal de fichiers"), integer=True, minimum=1)
    min_value = NumberField(_l("Valeur minimale"))
    max_value = NumberField(_l("Valeur maximale"))
    min_length = NumberField(_l("Nombre minimal de caractères"), integer=True, minimum=0)
    max_length = NumberField(_l("Nombre maximal de caractères"), integer=True, minimum=1)
    pattern = StringField(_l("Format imposé (expression régulière)"))
    pattern_message = StringField(_l("Message si le format n’est pas respecté"))
    min_date = DateTextField(_l("Date au plus tôt (JJ/MM/AAAA)"))
    max_date = DateTextField(_l("Date au plus tard (JJ/MM/AAAA)"))
    item_label = StringField(_l("Nom d’un élément (par exemple « enfant »)"))
    min_items = NumberField(_l("Nombre minimal d’éléments"), integer=True, minimum=0)
    max_items = NumberField(_l("Nombre maximal d’éléments"), integer=True, minimum=1)
    group_fields = TextAreaField(_l("Champs de chaque élément (JSON)"), render_kw=CODE)
    quick_picks = StringField(_l("Pays proposés en premier (codes ISO séparés par des virgules)"))
    condition_field = SelectField(_l("Afficher ce champ seulement si le champ"), choices=[])
    condition_operator = SelectField(_l("Condition"), choices=OPERATORS)
    condition_value = StringField(_l("Valeur"))
    condition_json = TextAreaField(_l("Condition avancée (JSON)"), render_kw=CODE)


class RulesForm(FlaskForm):
    rules = TextAreaField(_l("Règles (JSON)"), render_kw={**CODE, "rows": 24})


class ScheduleForm(FlaskForm):
    opens_at = LocalDateTimeField(_l("Ouverture"))
    closes_at = LocalDateTimeField(_l("Clôture"))


class RetentionForm(FlaskForm):
    draft_lifetime_days = NumberField(
        _l("Durée de vie d’un brouillon (jours)"),
        integer=True,
        minimum=retention.DRAFT_LIFETIME_RANGE[0],
        maximum=retention.DRAFT_LIFETIME_RANGE[1],
    )
    retention_months = NumberField(
        _l("Conservation d’une demande terminée (mois)"),
        integer=True,
        minimum=retention.RETENTION_RANGE[0],
        maximum=retention.RETENTION_RANGE[1],
    )


class ImportForm(FlaskForm):
    file = FileField(_l("Fichier JSON"))
    text = TextAreaField(_l("Ou collez la définition JSON"), render_kw=CODE)
    publish = BooleanField(_l("Publier aussitôt la définition importée"))
