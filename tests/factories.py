"""Realistic fixtures of the real formats, built in code (seeded), so tests never depend on files outside the repo."""

from __future__ import annotations

import gzip
import json
import random
from datetime import datetime, timedelta, timezone
from pathlib import Path


def bedrock_record(i: int, when: datetime, *, account: str = "111122223333", region: str = "us-east-1",
                   model: str = "us.anthropic.claude-3-haiku-20240307-v1:0", with_bodies: bool = True,
                   rng: random.Random | None = None, **overrides) -> dict:
    rng = rng or random.Random(i)
    record = {
        "schemaType": "ModelInvocationLog", "schemaVersion": "1.0",
        "timestamp": when.strftime("%Y-%m-%dT%H:%M:%SZ"), "accountId": account,
        "identity": {"arn": f"arn:aws:sts::{account}:assumed-role/search-app/user{i % 7}@acme.example"},
        "region": region, "requestId": f"{i:08x}-7c1e-4f7a-9d2b-{rng.getrandbits(48):012x}",
        "operation": "Converse", "modelId": model,
        "input": {"inputContentType": "application/json", "inputTokenCount": rng.randint(50, 4000),
                  "cacheReadInputTokenCount": rng.choice([0, 0, 1024, 2048]), "cacheWriteInputTokenCount": 0},
        "output": {"outputContentType": "application/json", "outputTokenCount": rng.randint(10, 800)},
        "requestMetadata": {"team": "search", "agent": "answer-bot", "task_type": "qa"},
    }
    if with_bodies:
        record["input"]["inputBodyJson"] = {"messages": [{"role": "user", "content": [
            {"text": "PROMPT-SECRET: summarise the quarterly numbers for ACME"}]}]}
        record["output"]["outputBodyJson"] = {"output": {"message": {"content": [
            {"text": "RESPONSE-SECRET: revenue grew 12%"}]}}, "stopReason": "end_turn",
            "metrics": {"latencyMs": rng.randint(200, 5000)}, "usage": {"inputTokens": 1}}
    record.update(overrides)
    return record


def bedrock_key(account: str, region: str, when: datetime, name: str) -> str:
    return (f"AWSLogs/{account}/BedrockModelInvocationLogs/{region}/{when:%Y/%m/%d/%H}/"
            f"{when:%Y%m%dT%H%M%S}_{name}.json.gz")


def write_bedrock_logs(root: Path, *, hours: int = 3, per_hour: int = 20, start: datetime | None = None,
                       account: str = "111122223333", region: str = "us-east-1", seed: int = 7) -> list[dict]:
    """Hourly .json.gz objects in the real S3 layout; returns the records written."""
    rng = random.Random(seed)
    start = start or datetime(2025, 6, 1, tzinfo=timezone.utc)
    records = []
    n = 0
    for h in range(hours):
        hour = start + timedelta(hours=h)
        batch = []
        for _ in range(per_hour):
            batch.append(bedrock_record(n, hour + timedelta(seconds=rng.randint(0, 3599)), account=account,
                                        region=region, rng=rng))
            n += 1
        path = root / bedrock_key(account, region, hour, f"{seed:04d}{h:04d}")
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(gzip.compress(("\n".join(json.dumps(r) for r in batch) + "\n").encode()))
        records.extend(batch)
    return records
