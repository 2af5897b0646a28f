"""Anomaly detection on cost and usage series: causal seasonal detector, rolling z-score baseline, alert gates."""

from models.anomaly.detector import AnomalyDetector, SeriesDetector
from models.anomaly.gates import Gate, GatePolicy, PlannedEvent, ScopedGate, apply_gates
from models.anomaly.intervals import ANOMALY_COLUMNS
from models.anomaly.zscore import RollingZScoreDetector

__all__ = ["ANOMALY_COLUMNS", "AnomalyDetector", "Gate", "GatePolicy", "PlannedEvent", "RollingZScoreDetector",
           "ScopedGate", "SeriesDetector", "apply_gates"]
