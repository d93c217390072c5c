"""Names of the library's choices, kept free of heavy imports so that params validation can list them
without every stage importing (and depending on) torch's training loop or the t-SNE libraries."""

LR_SCHEDULES = ("constant", "cosine")
TSNE_METHODS = ("opentsne", "sklearn")
ACTIVATIONS = ("relu", "elu", "silu")
PRECISIONS = ("fp32", "bf16")  # of the training forward pass; "bf16" is autocast (fp32 weights and loss)
