-- SQL macros the models share.
-- DuckDB-only: a macro; `//` and `%` on integers truncate toward zero, floor_div rounds toward minus infinity (the
-- exact splits in sql/marts/chargeback_live.sql need the mathematical floor for negative amounts too).
create or replace macro floor_div(n, d) as
    (n // d) - case when n % d <> 0 and ((n < 0) <> (d < 0)) then 1 else 0 end;
