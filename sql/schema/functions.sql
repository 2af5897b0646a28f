-- SQL macros the models share.
-- DuckDB-only: a macro; `//` and `%` on integers truncate toward zero, floor_div rounds toward minus infinity (the
-- exact splits in sql/marts/chargeback_live.sql need the mathematical floor for negative amounts too).
-- Same signs (the common case) need one division; the remainder is only computed when the signs differ.
create or replace macro floor_div(n, d) as
    case when (n < 0) = (d < 0) then n // d
         else (n // d) - case when n % d <> 0 then 1 else 0 end end;
