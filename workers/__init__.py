"""What happens to a fetched page: extract, normalise, store."""
