"""The graph layer: causal DAGs, d-separation, adjustment sets and identification."""
