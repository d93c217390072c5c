"""Variational autoencoders on MNIST: what trains and evaluates a VAE (data, model, loss, training, evaluation,
likelihood, sampling), the library beneath the study and the pipeline stages."""
