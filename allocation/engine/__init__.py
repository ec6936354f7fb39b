"""The allocation engine: the demand and stock a run reads (demand), the walk that plans
who gets what in rank order (walk), applying the plan in short transactions (apply),
and one run from start to end (run)."""
