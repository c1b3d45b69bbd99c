"""The price list consultants price per-call work from, and the one-off contracts of accepted per-call estimates."""
