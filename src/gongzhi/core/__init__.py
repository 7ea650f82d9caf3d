"""Domain-free building blocks: errors, scoping, the hash-chained timeline."""
