"""`embproj compare` and `embproj.compare`: two embeddings of the same rows, what moved, where, and by how much
(docs/ARCHITECTURE.md)."""
