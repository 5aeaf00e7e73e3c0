from calle.readme_sections import FEATURE_CATALOGUE, README, feature_catalogue, render


def test_generated_readme_sections_match_the_code():
    text = README.read_text()
    assert render(text) == text, "run `python -m calle.readme_sections` to update the README"


def test_readme_names_the_two_commands_and_ci_runs_the_test_one():
    text = README.read_text()
    assert "./scripts/demo" in text and "./scripts/test" in text
    ci = (README.parent / ".ci" / "run").read_text()
    assert ci.strip().splitlines()[-1] == "./scripts/test"


def test_the_feature_catalogue_document_matches_the_code():
    assert FEATURE_CATALOGUE.read_text() == feature_catalogue(), (
        "run `python -m calle.readme_sections` to update docs/feature-catalogue.md"
    )
