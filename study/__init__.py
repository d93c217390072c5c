"""The study: what measures, draws and writes it (latent structure, figures, findings in words, the report's
LaTeX, statistics across runs, provenance), on top of the VAE library in ``vae``."""
