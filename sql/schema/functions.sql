-- SQL macros the models share.
-- DuckDB-only: a macro; `//` and `%` on integers truncate toward zero, floor_div rounds toward minus infinity (the
-- exact splits in sql/intermediate/int_chargeback_lines.sql need the mathematical floor for negative amounts too).
-- Same signs (the common case) need one division; the remainder is only computed when the signs differ.
create or replace macro floor_div(n, d) as
    case when (n < 0) = (d < 0) then n // d
         else (n // d) - case when n % d <> 0 then 1 else 0 end end;

-- Largest-remainder apportionment (int_genai_allocated, int_shared_allocated): a claim's signed share of a pot, in
-- integer units of 1e-10, from its floor share and its rank among the pot's claims (the first `units_left` ranks get
-- one more unit). DuckDB-only: a macro.
create or replace macro largest_remainder_units(pot_units, floor_units, remainder_rank, units_left) as
    sign(pot_units) * (floor_units + case when remainder_rank <= units_left then 1 else 0 end);

-- Integer units of 1e-10 back to money, exactly. DuckDB-only: a macro.
create or replace macro units_to_money(units) as
    cast(cast(units as decimal(38, 0)) * cast(0.0000000001 as decimal(11, 10)) as decimal(38, 10));
