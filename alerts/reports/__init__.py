"""Scheduled cost reports: `costwarden report --period weekly|monthly [--scope department=X] [--send|--out DIR]`.

data.py reads the warehouse into a ReportData value; compose.py turns it into text, HTML, CSV, XLSX and an email
(pure: same data, same bytes, except the XLSX zip and PNG which are checked by content); chart.py draws the PNG;
job.py writes files or queues the emails in the alerts outbox and delivers them through the email channel.
"""
