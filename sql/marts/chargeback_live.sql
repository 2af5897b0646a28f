-- The chargeback as the current bill and allocation say it: each billed cost line's share per department, team,
-- agent, model and cost kind, in FOCUS 1.2 form plus x_ allocation columns. marts.chargeback puts closed months'
-- frozen rows and restatement adjustments on top of this. How lines are split: intermediate.int_chargeback_lines.
-- grain: line_key, x_CostKind, x_Department, x_Team, x_Agent, x_Model, x_Environment, x_AllocationReason
-- materialized: view

-- DuckDB-only: star with exclude (the build columns are not part of the chargeback).
select * exclude (day, is_shared_pot)
from intermediate.int_chargeback_lines
