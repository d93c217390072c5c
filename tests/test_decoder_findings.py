"""The report's sentences about the likelihood as a density follow their numbers: fabricated sweeps in (the shape of
a smoke run: a Bernoulli read as a continuous Bernoulli scores the better density at every clip but none), the
wording checked where the answer flips, and where the sweep lacks a decoder, a seed or a d <= 2."""

from __future__ import annotations

import pytest
from test_sweep_findings import CB_SHIFT, LOSS, make_sweep

from study import decoder_findings
from study.sweep import cb_column
from vae.pixels import bits_per_dimension

THREE = ("relu", "elu", "elu-cb")


def test_clips_and_numbers_read_as_latex() -> None:
    assert decoder_findings.clip_tex("1e-04") == "$10^{-4}$"
    assert decoder_findings.clip_tex("1e-64") == "$10^{-64}$"
    assert decoder_findings.clip_tex("none") == "none"
    assert decoder_findings.clip_tex("0.0003") == "$0.0003$"
    assert decoder_findings.number(-1412.34) == "-1412.3"
    assert decoder_findings.number(1.6e7) == "1.6 \\times 10^{7}"
    assert decoder_findings.number(-2.5e5, 2) == "-2.5 \\times 10^{5}"
    s = make_sweep().spread("test_loss")[("relu", 64)]
    assert decoder_findings.spread_tex(s, 2) == "$97.90 \\pm 0.30$"


def test_which_decoder_scores_the_better_density_follows_the_clip() -> None:
    text = decoder_findings.clip_comparison(make_sweep(recipes=THREE))
    assert text.startswith(
        "At $d = 64$ (Table~\\ref{tab:clips}), with $\\lambda$ clipped at $10^{-4}$, $10^{-16}$ and $10^{-64}$ the ELU "
        "recipe read as a continuous Bernoulli scores the better density (by $155.0$, $232.0$ and $304.0$ nats; more "
        "than twice the seed spread); unclipped the ELU recipe with the continuous Bernoulli scores the better density "
        "(by $1.6 \\times 10^{7}$ nats; more than twice the seed spread). Which decoder scores the better density "
        "thus turns on the clip")
    # Unclipped, the Bernoulli read as a continuous Bernoulli is worse than a uniform density: the number is said.
    assert "score up to $2.0 \\times 10^{7}$ nats per image at $d = 64$ (the ReLU recipe): worse than the uniform " \
           "density on $[0, 1]^{784}$, which scores 0, and catastrophic." in text
    # The continuous Bernoulli ahead at the paper's clip too: three runs of clips, the middle one the Bernoulli's.
    paper_like = make_sweep(recipes=THREE, means={"elu-cb": {cb_column("1e-04"): {d: -1500.0 for d in LOSS}}})
    text = decoder_findings.clip_comparison(paper_like)
    assert "with $\\lambda$ clipped at $10^{-4}$ the ELU recipe with the continuous Bernoulli scores the better " \
           "density (by $88.0$ nats; more than twice the seed spread); with $\\lambda$ clipped at $10^{-16}$ and " \
           "$10^{-64}$ the ELU recipe read as a continuous Bernoulli" in text
    assert "the continuous Bernoulli scores the better density at every $d$ of the sweep" in text
    # Ahead at every clip: the verdict does not turn.
    ahead = make_sweep(recipes=THREE, means={"elu-cb": {cb_column(c): {d: -5000.0 for d in LOSS}
                                                        for c in ("1e-04", "1e-16", "1e-64")}})
    text = decoder_findings.clip_comparison(ahead)
    assert "at every clip, unclipped included, the ELU recipe with the continuous Bernoulli scores the better " \
           "density" in text and "The same decoder scores the better density at every clip." in text


def test_the_first_clip_names_the_d_at_which_each_decoder_wins() -> None:
    small_d = {cb_column("1e-04"): {d: -1500.0 if d <= 4 else -1000.0 for d in LOSS}}
    text = decoder_findings.first_clip_by_d(make_sweep(recipes=THREE, means={"elu-cb": small_d}))
    assert text == ("Read with $\\lambda$ clipped at $10^{-4}$, as Figure~\\ref{fig:sweep-decoders} draws it, the "
                    "continuous Bernoulli scores the better density at $d = 1$, 2 and 4 and the Bernoulli at "
                    "$d = 8$, 16, 32 and 64.")


def test_unclipped_reading_is_not_called_catastrophic_when_it_is_not() -> None:
    tame = make_sweep(recipes=THREE, means={r: {cb_column("none"): {d: -900.0 for d in LOSS}} for r in ("relu", "elu")})
    text = decoder_findings.unclipped(tame)
    assert "no worse than the uniform density" in text and "catastrophic" not in text
    one = decoder_findings.unclipped(make_sweep(recipes=("elu", "elu-cb")))
    assert one.startswith("Unclipped, the ELU recipe read as a continuous Bernoulli scores $1.6 \\times 10^{7}$ nats")


def test_the_clip_sentences_degrade_without_one_of_the_decoders() -> None:
    bernoulli_only = decoder_findings.clip_comparison(make_sweep())
    assert bernoulli_only.startswith("The sweep has no recipe with the continuous-Bernoulli decoder")
    assert "catastrophic" in bernoulli_only  # the Bernoulli's own reading is still reported
    cb_only = decoder_findings.clip_comparison(make_sweep(recipes=("elu-cb",)))
    assert cb_only.startswith("Every recipe of the sweep has the continuous-Bernoulli decoder")
    assert decoder_findings.abstract(make_sweep()) == ""
    assert "does not put that rule to the test" in decoder_findings.clip_discussion(make_sweep())


def test_abstract_and_discussion_say_whether_the_clip_decided() -> None:
    assert decoder_findings.abstract(make_sweep(recipes=THREE)) == (
        "Beside the Bernoulli, the sweep trains the continuous Bernoulli, a decoder that is a density, and compares "
        "the two on what they share (Section~\\ref{sec:density}): scored as densities over dequantized pixels at "
        "$d = 64$, the continuous Bernoulli beats a Bernoulli read through the inverse of its mean map unclipped, "
        "but not with $\\lambda$ clipped at $10^{-4}$, $10^{-16}$ and $10^{-64}$: which decoder wins turns on the "
        "clip.")
    assert "the rule can decide the verdict" in decoder_findings.clip_discussion(make_sweep(recipes=THREE))
    never = make_sweep(recipes=THREE, means={"elu-cb": {cb_column("none"): {d: 1e8 for d in LOSS}}})
    assert decoder_findings.abstract(never).endswith("beats the continuous Bernoulli at every clip of its $\\lambda$.")
    assert "moves the numbers but not the verdict" in decoder_findings.clip_discussion(never)


def test_the_introduction_asks_about_decoders_only_where_the_sweep_has_both() -> None:
    assert decoder_findings.introduction(make_sweep(recipes=THREE)).endswith(
        "the sweep therefore also trains a decoder that is one, the continuous Bernoulli of \\citet{loaizaganem2019}, "
        "and asks how the two compare on what they share.")
    assert decoder_findings.introduction(make_sweep()).endswith("says what its numbers are and are not).")


def test_the_continuous_bernoulli_loss_is_given_in_its_own_units() -> None:
    text = decoder_findings.own_loss(make_sweep(recipes=THREE))
    top = LOSS[64] + CB_SHIFT
    assert text.startswith(f"The ELU recipe with the continuous Bernoulli reaches a test negative ELBO of $-2642.1$ "
                           f"nats per image at $d = 64$ ({bits_per_dimension(top, 784):.3f} bits per dimension) and an "
                           f"importance-weighted $-\\log p(x)$ of $-2644.1$ "
                           f"({bits_per_dimension(top - 2, 784):.3f} bits per dimension); its loss is lowest at "
                           "$d = 32$")
    assert "3.138 bits per dimension" in text  # (-2642.1 + 784 ln 256) / (784 ln 2)
    assert "compare with no Bernoulli loss" in text
    lowest_at_top = make_sweep(recipes=THREE, loss={**LOSS, 64: 90.0})
    assert ", its lowest over the sweep" in decoder_findings.own_loss(lowest_at_top)
    assert decoder_findings.own_loss(make_sweep()).startswith("The sweep has no recipe with the continuous-Bernoulli")


def test_shared_measures_group_the_recipes_and_the_measures_that_bend_alike() -> None:
    text = decoder_findings.shared_bends(make_sweep(recipes=THREE))
    assert text == (
        "Judged against twice the seed spread, the negative ELBO read as a density ($\\lambda$ clipped at $10^{-4}$) "
        "stops improving from $d = 16$ with every recipe; the pixel error of reconstructions and the share of "
        "reconstructions that keep their digit stop improving from $d = 32$ with every recipe; the share of prior "
        "samples the pixel classifier names stops improving from $d = 1$ with every recipe; the $k$-NN digit "
        "accuracy on latent means stops improving from $d = 8$ with every recipe; and active units stop growing at "
        "$d = 32$ with every recipe (Table~\\ref{tab:decoders}).")
    # The continuous Bernoulli's samples keep improving: its clause parts from the others'.
    better = make_sweep(recipes=THREE, means={"elu-cb": {"samples_named": {d: 0.1 * i for i, d in enumerate(LOSS)}}})
    assert "the share of prior samples the pixel classifier names stops improving from $d = 1$ with the ReLU and ELU " \
           "recipes and not by $d = 64$ with the ELU recipe with the continuous Bernoulli" in \
           decoder_findings.shared_bends(better)
    assert decoder_findings.shared_bends(make_sweep(recipes=THREE, seeds=(101,))).startswith(
        "Each cell trained one seed")
    assert "one latent dimension" in decoder_findings.shared_bends(make_sweep(loss={8: 100.0}, active={8: 8}))


def test_decoders_are_compared_on_shared_measures_against_the_twin_recipe() -> None:
    sharper = make_sweep(recipes=THREE, means={"elu-cb": {"pixel_mse": {64: 0.01}, "samples_named": {64: 0.5}}})
    text = decoder_findings.decoder_comparison(sharper)
    # Measures with the same verdict share a clause.
    assert text == ("At $d = 64$, against the ELU recipe, the same recipe with the Bernoulli decoder, the ELU recipe "
                    "with the continuous Bernoulli does worse on the negative ELBO read as a density ($\\lambda$ "
                    "clipped at $10^{-4}$) and the share of prior samples the pixel classifier names (more than twice "
                    "the seed spread), better on the pixel error of reconstructions (more than twice the seed spread) "
                    "and as well on the share of reconstructions that keep their digit and the $k$-NN digit accuracy "
                    "on latent means.")
    # Without a twin, each measure is set against the best Bernoulli recipe on it.
    alone = decoder_findings.decoder_comparison(make_sweep(recipes=("relu", "elu-cb")))
    assert "against the best Bernoulli recipe on each measure" in alone
    assert decoder_findings.decoder_comparison(make_sweep()).startswith(
        "The sweep has no recipe with the continuous-Bernoulli decoder, so it compares no decoders")


def test_the_paper_stands_beside_ours_with_what_differs() -> None:
    text = decoder_findings.paper(make_sweep(recipes=THREE))
    assert "an ELBO of 1,470 nats per image for their continuous-Bernoulli VAE against 1,416" in text
    assert "read from the authors' poster, not from their paper's tables" in text
    assert "their 1,470 is our $-1{,}470$" in text
    assert "At $d = 16$, the sweep's nearest to their 20, the ELU recipe with the continuous Bernoulli scores an " \
           "ELBO of $1256.9$ nats per image and the ELU recipe, read the same way, $1411.9$: the continuous " \
           "Bernoulli worse by 155.0 nats (more than twice the seed spread), unlike their result." in text
    assert "ours hidden layers of 512 and 256 ELU units; their latent dimension is 20, ours 16; we train 30 epochs" \
        in text
    ahead = make_sweep(recipes=THREE, means={"elu-cb": {cb_column("1e-04"): {16: -1500.0}}})
    assert "the continuous Bernoulli better by 88.1 nats (more than twice the seed spread), as in their result" in \
        decoder_findings.paper(ahead)
    assert "cannot repeat their comparison" in decoder_findings.paper(make_sweep())


def test_exact_likelihoods_stand_beside_their_estimates_and_say_what_the_gap_means() -> None:
    text = decoder_findings.exact(make_sweep(recipes=THREE), 100)
    assert "with every recipe it lies above the exact value at $d = 1$ and 2" in text
    assert "For the ELU recipe with the continuous Bernoulli both are of a density over the dequantized test images" \
        in text
    assert "For the ReLU and ELU recipes the quadrature integrates the Bernoulli's unnormalized function" in text
    below = make_sweep(recipes=THREE, means={"relu": {"exact_iw_nll": {2: LOSS[2] - 4}}})
    assert "with the ReLU recipe it is not above the exact value at $d = 2$" in decoder_findings.exact(below, 100)
    assert decoder_findings.exact(make_sweep(loss={4: 120.0, 8: 104.0}, active={4: 4, 8: 8}), 100).startswith(
        "The sweep has no $d \\le 2$")


@pytest.mark.parametrize("recipes", [THREE, ("relu", "elu")])
def test_what_each_d_draws_says_which_strips_show_the_mean_and_which_lambda(recipes: tuple[str, ...]) -> None:
    text = decoder_findings.draws(make_sweep(recipes=recipes))
    assert "from the model of seed 101" in text and "what the model expects each pixel to be" in text
    if "elu-cb" in recipes:
        assert "a second strip shows $\\lambda$ itself" in text and "between $\\lambda$ and $1/2$" in text
    else:
        assert "one strip shows both" in text and "second strip" not in text
