"""Helpers for the demo-form tests."""

from pathlib import Path

from forms_app.formdefs.definition import FormDefinition, load
from forms_app.formdefs.rules import RuleResults, evaluate
from tests.support import submit_answers

DEMO_DIR = Path(__file__).resolve().parents[3] / "forms_app" / "demo_forms"
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def load_demo(name: str) -> FormDefinition:
    return load((DEMO_DIR / name).read_text(encoding="utf-8"))


def run(definition: FormDefinition, answers: dict) -> RuleResults:
    results = evaluate(definition, answers)
    assert results.errors == []
    return results


def ineligible_keys(results: RuleResults) -> list[str]:
    return [item["key"] for item in results.ineligible]


def post(client, slug: str, data: dict):
    return submit_answers(client, slug, data)
