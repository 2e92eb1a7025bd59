"""Answers: the `/trade` command language, the answerer, and the state behind buttons."""
