"""Input fields typed the French way: numbers, amounts, dates and local times, checkbox lists."""

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from wtforms import SelectMultipleField, StringField, widgets
from wtforms.validators import ValidationError

from forms_app.formdefs import nc


def parse_number(text: str) -> int | float:
    """Read "1 500", "2,5" or "-3" as a number; raise ValueError otherwise."""
    compact = "".join(text.split()).replace("\u202f", "").replace(",", ".")
    number = float(compact)
    if number != number or number in (float("inf"), float("-inf")):
        raise ValueError(text)
    return int(number) if number == int(number) and "." not in compact else number


def format_number(value: int | float | None) -> str:
    if value is None:
        return ""
    return str(int(value)) if value == int(value) else str(value).replace(".", ",")


class ParsedField(StringField):
    """A text input whose value is parsed in pre_validate into `parsed` (None when empty)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.parsed = None

    def _value(self) -> str:
        if isinstance(self.data, str):
            return self.data
        return self.format(self.data)

    def format(self, value) -> str:
        return "" if value is None else str(value)

    def parse(self, text: str):
        return text

    def pre_validate(self, form) -> None:
        self.parsed = None
        if self.data is None or not isinstance(self.data, str):
            self.parsed = self.data
            return
        if self.data.strip():
            self.parsed = self.parse(self.data.strip())


class NumberField(ParsedField):
    """A number; `integer=True` refuses decimals."""

    def __init__(
        self,
        *args,
        integer: bool = False,
        minimum: float | None = None,
        maximum: float | None = None,
        **kwargs,
    ):
        super().__init__(*args, **kwargs)
        self.integer, self.minimum, self.maximum = integer, minimum, maximum

    def format(self, value) -> str:
        return format_number(value)

    def parse(self, text: str) -> int | float:
        try:
            number = parse_number(text)
        except ValueError:
            raise ValidationError("Saisissez un nombre, par exemple 10.") from None
        if self.integer and not isinstance(number, int):
            raise ValidationError("Saisissez un nombre entier, par exemple 10.")
        if self.minimum is not None and number < self.minimum:
            raise ValidationError(f"Saisissez un nombre supérieur ou égal à {self.minimum}.")
        if self.maximum is not None and number > self.maximum:
            raise ValidationError(f"Saisissez un nombre inférieur ou égal à {self.maximum}.")
        return number


class AmountField(ParsedField):
    """An amount in francs CFP (integer, no minor unit)."""

    def format(self, value) -> str:
        return "" if value is None else f"{value:,}".replace(",", " ")

    def parse(self, text: str) -> int:
        try:
            return nc.parse_xpf(text)
        except nc.InvalidValue as exc:
            raise ValidationError(str(exc)) from None


class DateTextField(ParsedField):
    """A date typed JJ/MM/AAAA, kept as an ISO string."""

    def format(self, value) -> str:
        if not value:
            return ""
        return nc.format_date(datetime.strptime(value, "%Y-%m-%d").date())

    def parse(self, text: str) -> str:
        try:
            return nc.parse_date(text).isoformat()
        except nc.InvalidValue as exc:
            raise ValidationError(str(exc)) from None


class LocalDateTimeField(ParsedField):
    """A moment typed JJ/MM/AAAA HH:MM in the local time zone, parsed to an aware UTC datetime."""

    def __init__(self, *args, zone: str = "Pacific/Noumea", **kwargs):
        super().__init__(*args, **kwargs)
        self.zone = ZoneInfo(zone)

    def format(self, value) -> str:
        return "" if value is None else value.astimezone(self.zone).strftime("%d/%m/%Y %H:%M")

    def parse(self, text: str) -> datetime:
        for pattern in ("%d/%m/%Y %H:%M", "%d/%m/%Y", "%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"):
            try:
                local = datetime.strptime(text, pattern)
            except ValueError:
                continue
            return local.replace(tzinfo=self.zone).astimezone(UTC)
        raise ValidationError("Saisissez une date et une heure au format JJ/MM/AAAA HH:MM.")


class CheckboxListField(SelectMultipleField):
    """Several checkboxes sharing one name."""

    widget = widgets.ListWidget(prefix_label=False)
    option_widget = widgets.CheckboxInput()
