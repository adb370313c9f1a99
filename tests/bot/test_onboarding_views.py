"""The onboarding extension's custom_id scheme and modal building (no Discord needed)."""

from __future__ import annotations

import pytest

from analytics.onboarding import FieldSpec, Step
from botworker.exts.onboarding import _views

SID = "AbCdEfGh_-123456"


def _field(key: str, **changes) -> FieldSpec:
    base = dict(
        key=key,
        label=key.title(),
        paragraph=False,
        required=True,
        placeholder="",
        min_length=None,
        max_length=None,
        value="",
    )
    return FieldSpec(**{**base, **changes})


def test_it_round_trips_every_custom_id_within_discords_limit():
    for kind, index in [("start", None), ("next", 1), ("retry", 0), ("modal", 99)]:
        value = _views.custom_id(kind, "x" * 24, index)
        assert len(value) <= 100
        assert _views.parse(value) == _views.Action(kind, "x" * 24, index)


@pytest.mark.parametrize(
    "value",
    [
        "onb:start",
        "onb:start:short",
        f"onb:start:{SID}:0",
        f"onb:next:{SID}",
        f"onb:next:{SID}:-1",
        f"onb:next:{SID}:1e3",
        f"onb:next:{SID}:100",
        f"onb:jump:{SID}:1",
        f"onb:start:{SID}!",
        "onb:start:" + "x" * 200,
        "other:start:" + SID,
        None,
        42,
    ],
)
def test_it_rejects_malformed_custom_ids(value):
    assert _views.parse(value) is None


async def test_it_builds_a_modal_from_a_step():
    # given a step with a paragraph, an optional field and an over-long earlier answer
    step = Step(
        SID,
        1,
        2,
        "Launch (2/2)",
        (
            _field("bio", paragraph=True, required=False, placeholder="A few words"),
            _field("code", min_length=4, max_length=6, value="1234567"),
        ),
    )

    # when it becomes a modal
    data = _views.step_modal(step).to_dict()

    # then every Discord attribute comes from the step, the prefill fits the field
    assert (data["title"], data["custom_id"]) == ("Launch (2/2)", f"onb:modal:{SID}:1")
    bio, code = (row["components"][0] for row in data["components"])
    assert (bio["custom_id"], bio["style"], bio["required"]) == ("bio", 2, False)
    assert bio["placeholder"] == "A few words" and "value" not in bio
    assert (code["min_length"], code["max_length"], code["value"]) == (4, 6, "123456")


def test_it_reads_only_text_values_from_a_submit():
    data = {
        "components": [
            {"type": 1, "components": [{"type": 4, "custom_id": "game", "value": "go"}]},
            {"type": 1, "components": [{"type": 4, "custom_id": "age", "value": 5}]},
            {"type": 1, "components": "nonsense"},
            "nonsense",
        ]
    }

    assert _views.submitted_values(data) == {"game": "go"}
    assert _views.submitted_values(None) == {}
