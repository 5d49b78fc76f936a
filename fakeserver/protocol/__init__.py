"""The wire vocabulary of the fake server: every string it sends and the refusals handlers raise."""
