"""The HTML and text views of a preview: banner, predictions first, metrics collapsed."""

import re

import pandas as pd
from beam_ml.inference import InferencePreview, ModelComparison
from beam_ml.inference.view import device_banner, render_text

TWO_MODELS = {"a": {"kind": "sklearn", "path": "a.pkl"}, "b": {"kind": "sklearn", "path": "b.pkl"}}
TWO_METRICS = {
    "a": {"num_inferences": 2, "throughput_rows_per_s": 1234.5678},
    "b": {"num_inferences": 2},
    "pipeline_seconds": 0.5,
}


def _preview(device="cpu", reason="asked cpu; ran on cpu", requested="cpu", cls=InferencePreview,
             **extra):  # fmt: skip
    two = bool(extra)  # a comparison
    return cls(
        predictions=pd.DataFrame(
            {"a_prediction": [1, 0], "b_prediction": [1, 1], "x": [0.123456, 2.0]}
        ),
        device=device,
        device_reason=reason,
        metrics=TWO_METRICS if two else {"num_inferences": 2, "throughput_rows_per_s": 1234.5678},
        errors=pd.DataFrame(columns=["x", "error", "error_type", "stage"]),
        models=TWO_MODELS if two else {"model": {"kind": "sklearn", "path": "m.pkl"}},
        sample_rows=2,
        device_requested=requested,
        **extra,
    )


def _banner(html):
    return re.search(r'<p class="(bml-[a-z]+)"><b>Device: ([A-Z]+)</b>', html).groups()


def test_banner_warns_only_when_a_gpu_was_asked_and_cpu_ran():
    assert _banner(_preview().to_html()) == ("bml-muted", "CPU")
    auto = _preview(reason="asked auto; CUDA not available; ran on cpu", requested="auto")
    assert _banner(auto.to_html()) == ("bml-muted", "CPU")
    fell = _preview(reason="asked gpu; CUDA not available; ran on cpu", requested="gpu")
    assert _banner(fell.to_html()) == ("bml-bad", "CPU")
    gpu = _preview(device="gpu", reason="asked gpu; CUDA available; ran on gpu", requested="gpu")
    assert _banner(gpu.to_html()) == ("bml-good", "GPU")
    # a result saved before device_requested existed: the reason says what was asked
    assert device_banner({"device": "cpu", "device_reason": "asked gpu; x; ran on cpu"})[
        "fell_back"
    ]


def test_predictions_come_first_and_metrics_are_collapsed_with_4_significant_digits():
    html = _preview().to_html()
    assert html.index("Predictions") < html.index("<details>") and "<details open" not in html
    assert "1235" in html and "0.1235" in html and "1234.5678" not in html
    assert "Failed rows" not in html  # no errors: no table for them


def test_comparison_shows_models_side_by_side_with_the_agreement_rate():
    result = _preview(cls=ModelComparison, kind="compare", agreement=0.5)
    html = result.to_html()
    assert "Agreement A/B: 50 %" in html
    assert "<th>model a</th><th>model b</th>" in html
    assert "a.pkl" in html and "b.pkl" in html
    text = render_text(result.to_dict())
    assert "agreement: 50 %" in text and "model a: num_inferences=2" in text


def test_every_css_class_in_the_inference_views_exists_in_a_stylesheet():
    from beam_ml.assets import css

    sheets = css("base.css", "notebook.css", "profile.css", "validation.css")
    html = _preview(cls=ModelComparison, kind="compare", agreement=0.5).to_html()
    for name in set(re.findall(r'class="([^"]+)"', html)):
        for cls in name.split():
            assert f".{cls}" in sheets or cls == "bml", cls
