"""Variational autoencoders on MNIST: the library behind the pipeline stages."""
