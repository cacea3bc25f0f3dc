"""Training of the expression classifier (Keras 3). Needs the training extra; never imported by
the web app or the workers, which serve the exported LiteRT model through ``app.inference``."""
