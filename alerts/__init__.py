"""Alerts: events -> routing (who, where, page or update) -> compose (pure payloads) -> outbox -> channels (send).

Entry point: alerts.dispatch.run(con, events, settings.alerts, settings.teams, now).
"""
