{#- Macros the models' SQL may call (rendered with the project's vars, as dbt's are). -#}

{#- The rows of a change log keyed by `key`, each with its `recency`: 1 for its latest
    state (the latest record_updated_at; ties go to the later file by the date in its
    name, then to the later row of that file). -#}
{%- macro latest_state(relation, key) -%}
(
    SELECT
        staged.*,
        ROW_NUMBER() OVER (
            PARTITION BY {{ key }}
            ORDER BY record_updated_at DESC, file_date DESC, batch_id DESC, row_number DESC
        ) AS recency
    FROM {{ relation }} AS staged
) AS ranked
{%- endmacro -%}

{#- Every combination of the given flags, 0 or 1 (a row per way of rolling groups up into
    ALL): CROSS JOIN it, and each flag says whether its grouping column is ALL. -#}
{%- macro rollups(flags, alias="g") -%}
CROSS JOIN (
        VALUES {% for n in range(2 ** (flags | length)) -%}
        ({% for f in flags %}{{ (n // 2 ** (flags | length - 1 - loop.index0)) % 2 }}{{ ", " if not loop.last }}{% endfor %}){{ ", " if not loop.last }}
        {%- endfor %}
    ) AS {{ alias }} ({{ flags | join(", ") }})
{%- endmacro -%}

{#- Whether the int_employment_period row `period` covers the day `day`: employed on it. -#}
{%- macro employed_on(period, day) -%}
{{ period }}.employed_from <= {{ day }}
        AND ({{ period }}.employed_until IS NULL OR {{ period }}.employed_until > {{ day }})
{%- endmacro -%}

{#- A grouping column as a rolled-up row shows it: ALL where `flag` (of rollups) is 1. -#}
{%- macro all_or(flag, column) -%}
CASE WHEN {{ flag }} = 1 THEN 'ALL' ELSE {{ column }} END
{%- endmacro -%}

{#- A percentile of day counts (linear interpolation), rounded to one decimal as the
    contract rounds medians and percentiles of days. -#}
{%- macro days_percentile(column, fraction=0.5) -%}
CAST(ROUND(CAST(percentile_cont({{ fraction }}) WITHIN GROUP (ORDER BY {{ column }})
            AS NUMERIC(18, 6)), 1) AS NUMERIC(10, 1))
{%- endmacro -%}
