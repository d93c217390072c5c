"""The report's sentences follow the numbers they state: fabricated metrics in, the wording checked."""

from __future__ import annotations

from typing import Any

import pandas as pd

from study import findings
from study.stats import Convergence


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
        "$d = 1$ uses its one latent dimension; $d = 2$ uses both of its latent dimensions; "
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


def test_latent_structure_reads_the_silhouette_against_the_no_structure_line() -> None:
    text = findings.latent_structure(EMBED, [1, 2, 64], 5)
    assert "accuracy 0.613 at $d = 1$, 0.759 at $d = 2$ and 0.974 at $d = 64$: it rises with $d$" in text
    # Every silhouette below 0.25: no d is called the best clustered.
    assert ("silhouette of the digit classes is 0.083 at $d = 1$, 0.025 at $d = 2$ and 0.058 at $d = 64$: below "
            "0.25 at every $d$") in text and "highest" not in text
    assert text.endswith("even at $d = 64$, where the classifier names the right digit for 97\\% of the test images.")
    flipped = {**EMBED, "d64": {**EMBED["d64"], "silhouette": 0.4, "knn_accuracy": 0.5}}
    text = findings.latent_structure(flipped, [1, 2, 64], 5)
    assert "it does not move monotonically with $d$" in text and "highest at $d = 64$, not at $d = 2$" in text
    assert "below 0.25" not in text
    # Where the same d is best by both measures, the sentence claims no gap between them.
    agreeing = {**EMBED, "d64": {**EMBED["d64"], "silhouette": 0.4}}
    assert findings.latent_structure(agreeing, [1, 2, 64], 5).endswith("highest at $d = 64$.")


def test_article_reads_numbers_aloud() -> None:
    assert [findings.article(n) for n in (1, 5, 8, 11, 18, 80, 100, 11_000, 110)] == [
        "a", "a", "an", "an", "an", "an", "a", "an", "a"]


def test_digit_order_follows_the_median_code_of_each_digit() -> None:
    view = pd.DataFrame({"x": [0.5, 0.7, -2.0, -1.8, 3.0, 1.0], "label": [4, 4, 7, 7, 0, 1]})
    assert "test images, as 7, 4, 1, 0 (Figure" in findings.digit_order(view)
    assert "test images, as 0, 1, 4, 7 (Figure" in findings.digit_order(view.assign(x=-view["x"]))


def test_digit_confusions_name_the_best_and_worst_digit_and_the_commonest_mistake() -> None:
    # Four 3s (one taken for a 5), two 5s (both right), two 8s (one taken for a 3).
    view = pd.DataFrame({"label": [3, 3, 3, 3, 5, 5, 8, 8], "predicted": [3, 3, 3, 5, 5, 5, 8, 3]})
    text = findings.digit_confusions({2: view})
    assert text == ("Digit by digit, the classifier on latent means does unevenly: at $d = 2$ it finds a 5 most "
                    "often (100\\%) and an 8 least often (50\\%), and its commonest mistake takes a 3 for a 5 "
                    "(25\\% of the 3s).")
    # A second 8 taken for a 3 makes that the commonest mistake.
    more = pd.concat([view, pd.DataFrame({"label": [8], "predicted": [3]})], ignore_index=True)
    assert "takes an 8 for a 3 (67\\% of the 8s)" in findings.digit_confusions({2: more})
    perfect = view.assign(predicted=view["label"])
    assert findings.digit_confusions({64: perfect}).endswith(
        "at $d = 64$ it finds every digit equally often (100\\%), and never takes one digit for another.")
    # A mistake made on fewer than one in a hundred images is not shown as 0%.
    rare = pd.DataFrame({"label": [3] * 400, "predicted": [5] + [3] * 399})
    assert "takes a 3 for a 5 (0.2\\% of the 3s)" in findings.digit_confusions({64: rare})


def test_reconstruction_sentence_compares_with_the_images_themselves() -> None:
    embed = {"pixel_knn_accuracy": 0.96, "d1": {"recon_digit_kept": 0.41}, "d2": {"recon_digit_kept": 0.62},
             "d64": {"recon_digit_kept": 0.95}}
    text = findings.reconstructions(embed, [1, 2, 64], 5, 2000)
    assert ("names the digit of 96\\% of the first 2,000 test images, and of their reconstructions 41\\% at $d = 1$, "
            "62\\% at $d = 2$ and 95\\% at $d = 64$: the share rises with $d$; at $d = 64$ it is 1 point "
            "below the images themselves.") in text
    # One model has no trend; an 8-NN judge takes "an".
    one = findings.reconstructions({**embed, "d64": {"recon_digit_kept": 0.95}}, [64], 8, 2000)
    assert one.startswith("An 8-nearest-neighbour") and "with $d$" not in one
    embed["d64"]["recon_digit_kept"] = 0.98
    assert "at $d = 64$ it is 2 points above the images themselves." in findings.reconstructions(
        embed, [1, 2, 64], 5, 2000)
    embed["d64"]["recon_digit_kept"] = 0.9615  # shown as 96%, like the images
    assert "at $d = 64$ it is the same share as for the images themselves." in findings.reconstructions(
        embed, [1, 2, 64], 5, 2000)


def test_sample_sentence_names_the_commonest_and_rarest_digit() -> None:
    uneven = [0.02, 0.30, 0.08, 0.10, 0.10, 0.05, 0.10, 0.10, 0.10, 0.05]
    text = findings.samples({"d1": {"sample_digit_shares": uneven}}, [1], 2000)
    assert "the 2,000 prior samples" in text
    assert "at $d = 1$ the commonest digit, 1, takes 30\\% of them and the rarest, 0, 2\\%" in text
    flipped = [0.30, 0.02, *uneven[2:]]
    assert "the commonest digit, 0, takes 30\\% of them and the rarest, 1, 2\\%" in findings.samples(
        {"d1": {"sample_digit_shares": flipped}}, [1], 2000)


def test_recipe_differences_name_every_setting_that_differs_but_the_seed() -> None:
    recipe = {"activation": "relu", "epochs": 15, "lr": 0.001, "seed": 1}
    assert findings.recipe_differences({1: recipe, 2: {**recipe, "seed": 2}}) == (
        "The main models differ only in $d$ and their seed: every other setting of their recipes is the same.")
    text = findings.recipe_differences({1: recipe, 64: {**recipe, "activation": "elu", "epochs": 80, "seed": 64}})
    assert text.startswith("Besides $d$, the main models' recipes differ in activation and epochs; ")
    assert text.endswith("Table~\\ref{tab:sweep} compares the dimensions with one recipe and one budget.")
    assert "lr" not in text and "seed" not in text


RECIPES = {1: {"activation": "relu", "epochs": 60, "lr": 0.001, "seed": 1},
           2: {"activation": "relu", "epochs": 30, "lr": 0.001, "seed": 2},
           64: {"activation": "elu", "epochs": 80, "lr": 0.001, "seed": 64}}
CURVES = {1: Convergence(60, 12, 153.74, 153.67), 2: Convergence(30, 6, 139.16, 138.99),
          64: Convergence(80, 16, 95.94, 95.55)}


COSINE = {1: "cosine", 2: "cosine", 64: "cosine"}


def test_convergence_names_the_models_still_learning() -> None:
    text = findings.convergence(CURVES, COSINE)
    assert text.startswith("For each main model, over the last 20\\% of its epochs the validation loss fell by 0.07 "
                           "at $d = 1$, 0.17 at $d = 2$ and 0.39 at $d = 64$ nats")
    assert "more than the 0.3 nats this study takes as settled at $d = 64$, which was still learning." in text
    assert "less than the 0.3 nats this study takes as settled at every $d$." in findings.convergence(
        {1: CURVES[1], 2: CURVES[2]}, COSINE)
    assert "Under the cosine schedule those epochs run at less than a tenth" in text


def test_convergence_of_a_single_epoch_or_a_constant_rate_is_said_in_words() -> None:
    text = findings.convergence({**CURVES, 64: None}, {**COSINE, 2: "constant"})
    assert "fell by 0.07 at $d = 1$ and 0.17 at $d = 2$ nats" in text
    assert text.endswith("At $d = 64$ the model trained for one epoch, which leaves no earlier epoch to judge its "
                         "convergence against.")
    assert "the last epochs of $d = 1$ run at less than a tenth" in text
    assert findings.convergence({64: None}, COSINE).startswith("At $d = 64$ the model trained for one epoch")






def test_pixel_treatment_and_scale_follow_the_binarization() -> None:
    assert "not binarized" in findings.pixel_treatment("none")
    assert "Bernoulli(grey level)" in findings.pixel_treatment("dynamic")
    assert "not a normalised density" in findings.likelihood_scale("none")
    assert "normalised distribution" in findings.likelihood_scale("dynamic")


def test_abstract_gives_the_main_numbers() -> None:
    text = findings.abstract(train_metrics(), EMBED, 95.55, 100.35, 64)
    assert text.startswith("The test loss (negative ELBO) falls from 157.48 nats per image at $d = 1$ to 94.73 "
                           "at $d = 64$, where the model uses 18 of its 64 latent dimensions")
    assert "rises from 0.613 to 0.974" in text and "4.80 nats below the reference study's 100.35" in text
