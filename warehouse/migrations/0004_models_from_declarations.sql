-- rxstaff warehouse, schema version 4: model tables belong to their declarations.
-- Every int_/dim_/fct_ model is rebuilt each run; from now on each is created from its
-- declaration (warehouse/models/<name>.yml) rather than from a migration, so its columns
-- are written once. The runs that follow recreate and refill them.
DROP TABLE IF EXISTS fct_headcount_monthly;
DROP TABLE IF EXISTS fct_vacancy;
DROP TABLE IF EXISTS fct_budget_release;
DROP TABLE IF EXISTS fct_career_event;
DROP TABLE IF EXISTS dim_employee;
DROP TABLE IF EXISTS dim_date;
DROP TABLE IF EXISTS dim_job;
DROP TABLE IF EXISTS int_seat_tenure;
DROP TABLE IF EXISTS int_employee_observation;
