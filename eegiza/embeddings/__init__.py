"""Cross-lingual word embeddings as a prior on t(f|e) (placeholder; filled below)."""
