"""The report's sentences follow the numbers they state: fabricated metrics in, the wording checked."""

from __future__ import annotations

from typing import Any

from vae import findings


def train_metrics(**overrides: dict[str, Any]) -> dict[int, dict[str, Any]]:
    metrics = {
        1: {"test_loss": 157.48, "test_recon": 153.33, "test_kl": 4.15, "test_nll_iw": 156.41, "active_units": 1},
        2: {"test_loss": 141.39, "test_recon": 134.84, "test_kl": 6.54, "test_nll_iw": 139.31, "active_units": 2},
        64: {"test_loss": 94.73, "test_recon": 71.54, "test_kl": 23.19, "test_nll_iw": 91.93, "active_units": 18},
    }
    for d, changes in overrides.items():
        metrics[int(d.removeprefix("d"))].update(changes)
    return metrics


EMBED = {"d1": {"knn_accuracy": 0.613, "view_knn_accuracy": 0.615, "silhouette": 0.083},
         "d2": {"knn_accuracy": 0.759, "view_knn_accuracy": 0.758, "silhouette": 0.025},
         "d64": {"knn_accuracy": 0.974, "view_knn_accuracy": 0.967, "silhouette": 0.058}}


def test_loss_sentence_states_the_trend_and_the_trade() -> None:
    text = findings.loss_against_d(train_metrics())
    assert text.startswith("The test loss falls with the latent dimension: 157.48 at $d = 1$, 141.39 at $d = 2$ "
                           "and 94.73 at $d = 64$.")
    assert "The reconstruction term falls" in text and "the KL term rises" in text
    assert "buys reconstruction with information" in text


def test_loss_sentence_flips_when_the_numbers_do() -> None:
    text = findings.loss_against_d(train_metrics(d64={"test_loss": 160.0, "test_kl": 1.0}))
    assert "The test loss does not move monotonically" in text
    assert "the KL term does not move monotonically" in text and "buys" not in text


def test_active_units_counts_what_each_model_uses() -> None:
    assert findings.active_units(train_metrics()) == (
        "$d = 1$ uses its one latent dimension; $d = 2$ uses all of its 2 latent dimensions; "
        "$d = 64$ uses 18 of its 64 latent dimensions.")
    assert "$d = 1$ uses 0 of its 1 latent dimension" in findings.active_units(train_metrics(d1={"active_units": 0}))


def test_baseline_sentence_says_beats_or_trails() -> None:
    baseline = {"d1": {"test_loss": 171.40, "epochs_run": 15}, "d2": {"test_loss": 130.00, "epochs_run": 15}}
    text = findings.baseline_comparison(train_metrics(), baseline)
    assert "At $d = 1$ our model beats the baseline by 13.92 nats (157.48 against 171.40) after 15 epochs." in text
    assert "At $d = 2$ our model trails the baseline by 11.39 nats (141.39 against 130.00)" in text
    assert "d = 64" not in text  # no baseline there


def test_reference_sentence_says_below_or_above() -> None:
    assert findings.reference_comparison(95.55, 100.35, 64) == (
        "At $d = 64$ our minimum validation loss, 95.55, is 4.80 nats below the reference study's 100.35.")
    assert "2.00 nats above the reference" in findings.reference_comparison(102.35, 100.35, 64)


def test_importance_weighted_gap_flags_a_bound_above_the_elbo() -> None:
    assert "lies below the ELBO by 1.07 at $d = 1$, 2.08 at $d = 2$ and 2.80 at $d = 64$ nats" in \
        findings.importance_weighted_gap(train_metrics(), 100)
    text = findings.importance_weighted_gap(train_metrics(d2={"test_nll_iw": 142.0}), 100)
    assert "at $d = 2$ it is not below the ELBO" in text


def test_latent_structure_names_the_best_silhouette() -> None:
    text = findings.latent_structure(EMBED, [1, 2, 64], 5)
    assert "accuracy 0.613 at $d = 1$, 0.759 at $d = 2$ and 0.974 at $d = 64$: it rises with $d$" in text
    assert ("silhouette of the digit classes is 0.083 at $d = 1$, 0.025 at $d = 2$ and 0.058 at $d = 64$, highest "
            "at $d = 1$, not at $d = 64$ where the classifier does best: digits that a classifier") in text
    flipped = {**EMBED, "d64": {**EMBED["d64"], "silhouette": 0.2, "knn_accuracy": 0.5}}
    text = findings.latent_structure(flipped, [1, 2, 64], 5)
    assert "it does not move monotonically with $d$" in text and "highest at $d = 64$, not at $d = 2$" in text
    # Where the same d is best by both measures, the sentence claims no gap between them.
    agreeing = {**EMBED, "d64": {**EMBED["d64"], "silhouette": 0.2}}
    assert findings.latent_structure(agreeing, [1, 2, 64], 5).endswith("highest at $d = 64$.")


def test_recipe_differences_name_every_setting_that_differs() -> None:
    recipe = {"activation": "relu", "epochs": 15, "lr": 0.001}
    assert findings.recipe_differences({1: recipe, 2: recipe}) == (
        "The models differ only in $d$: every other setting of their recipes is the same.")
    text = findings.recipe_differences({1: recipe, 64: {**recipe, "activation": "elu", "epochs": 80}})
    assert text.startswith("The models do not differ only in $d$: their recipes also differ in activation (relu at "
                           "$d = 1$ and elu at $d = 64$) and epochs (15 at $d = 1$ and 80 at $d = 64$)")
    assert "lr" not in text


def test_abstract_gives_the_main_numbers() -> None:
    text = findings.abstract(train_metrics(), EMBED, 95.55, 100.35, 64)
    assert text.startswith("The test loss (negative ELBO) falls from 157.48 nats per image at $d = 1$ to 94.73 "
                           "at $d = 64$, where the model uses 18 of its 64 latent dimensions")
    assert "rises from 0.613 to 0.974" in text and "4.80 nats below the reference study's 100.35" in text
