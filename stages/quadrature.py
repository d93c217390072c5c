"""The rules of the quadrature grid over z, in params.yaml's likelihood block: the likelihood stage integrates
the main models on it, and the sweep's cells at d <= 2 theirs. Its own module so that each imports the rules and
nothing else of the other."""

from __future__ import annotations

from stages.params import integer, positive_number

GRID = {
    "grid_limit": positive_number(),  # the grid spans [-limit, limit] per latent axis
    "d1_grid_points": integer(2),  # points per axis at d = 1
    "d2_grid_points": integer(2),  # and at d = 2: quadrature is out of reach above
}
