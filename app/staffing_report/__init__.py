"""The staffing report: what the director presents and the auditor signs, with charts.

``data`` reads the figures (the BI relations, plus the audit trail where the reader may
see it), ``pages`` turns them into pages of findings, charts and tables (pure), and
``render`` writes one self-contained HTML file and a PDF of the same pages
(``render.write_report``). ``options`` is light: the run's settings read it without
loading the rest.
"""
