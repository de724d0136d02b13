"""The annual cultivation list (每年遴选10—15家 … 实行“一企一策”): policy, pool, ranking, briefs.

policy (the YAML selection policy) → pool (scope, eligibility by program outcomes, exclusions) → signals
(component values) → rank (percentiles, weights, tie-breaks, quotas) → standing (ladder place and what a firm
lacks) → run (one selection) → brief and write (the list, one page per firm, byte-for-byte reproducible).
"""
