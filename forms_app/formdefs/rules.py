"""Computed rules: values derived from answers, eligibility, the amount and the priority."""

from dataclasses import asdict, dataclass, field
from datetime import date
from typing import Any

from forms_app.formdefs.definition import FormDefinition
from forms_app.formdefs.expressions import ExpressionError, evaluate_all
from forms_app.formdefs.nc import XPF_MAX

PRIORITY_MAX = 2**31 - 1  # the priority column is a 32-bit integer


@dataclass
class RuleResults:
    """What a definition's rules say about one set of answers; stored with the submission."""

    computed: dict[str, Any] = field(default_factory=dict)
    ineligible: list[dict[str, str]] = field(default_factory=list)
    amount: int | None = None
    priority: int | None = None
    errors: list[str] = field(default_factory=list)
    # Notes the field types left for agents, by field key (e.g. an IBAN converted from NC).
    notes: dict[str, list[str]] = field(default_factory=dict)

    @property
    def eligible(self) -> bool:
        return not self.ineligible

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["computed"] = {k: _jsonable(v) for k, v in self.computed.items()}
        data["eligible"] = self.eligible
        return data


def expression_values(definition: FormDefinition, answers: dict[str, Any]) -> dict[str, Any]:
    """Answers as expressions see them: every field present (None if unanswered), dates as dates."""
    values: dict[str, Any] = {}
    for fdef in definition.answer_fields():
        value = answers.get(fdef.key)
        if fdef.type == "date" and isinstance(value, str):
            value = date.fromisoformat(value)
        values[fdef.key] = value
    return values


def evaluate(definition: FormDefinition, answers: dict[str, Any]) -> RuleResults:
    """Run every rule of the definition on these answers."""
    results = RuleResults()
    rules = definition.rules
    values = expression_values(definition, answers)
    try:
        results.computed = evaluate_all(rules.get("computed", {}), values)
    except ExpressionError as exc:
        results.errors.append(f"computed: {exc}")
    values.update(results.computed)
    for rule, expression in rules.get("eligibility", []):
        try:
            passed = bool(expression.evaluate(values))
        except ExpressionError as exc:
            results.errors.append(f"eligibility {rule['key']}: {exc}")
            passed = False
        if not passed:
            results.ineligible.append({"key": rule["key"], "message": rule["message"]})
    if "amount" in rules:
        results.amount = _integer(rules["amount"], values, results, "amount", XPF_MAX)
        cap = definition.raw["rules"]["amount"].get("cap")
        if results.amount is not None and cap is not None:
            results.amount = min(results.amount, cap)
    if "priority" in rules:
        results.priority = _integer(rules["priority"], values, results, "priority", PRIORITY_MAX)
    return results


def _integer(expression, values: dict, results: RuleResults, name: str, maximum: int) -> int | None:
    try:
        value = expression.evaluate(values)
    except ExpressionError as exc:
        results.errors.append(f"{name}: {exc}")
        return None
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        results.errors.append(f"{name}: expected a number, got {value!r}")
        return None
    if value != value or value > maximum:  # NaN or past what the column and the acts take
        results.errors.append(f"{name}: {value!r} is out of range (at most {maximum})")
        return None
    return max(0, round(value))


def _jsonable(value: Any) -> Any:
    if isinstance(value, date):
        return value.isoformat()
    return value
