"""OTLP/JSON trace exports built in code: GenAI chat spans, agent runs, collector JSON lines and single documents.

Shapes follow the OTLP/JSON encoding (hex ids, int64 as strings, attributes as key/value lists) and the GenAI
semantic conventions v1.41. Chat spans carry message attributes and events with marker text so tests can prove
that no body is ever stored.
"""

from __future__ import annotations

import gzip
import json
import random
from datetime import datetime, timedelta, timezone
from pathlib import Path

PROMPT_MARKER = "PROMPT-SECRET"
RESPONSE_MARKER = "RESPONSE-SECRET"
START = datetime(2025, 6, 1, 9, tzinfo=timezone.utc)


def attr(key: str, value) -> dict:
    if isinstance(value, bool):
        return {"key": key, "value": {"boolValue": value}}
    if isinstance(value, int):
        return {"key": key, "value": {"intValue": str(value)}}   # int64 is a string in OTLP/JSON
    if isinstance(value, float):
        return {"key": key, "value": {"doubleValue": value}}
    if isinstance(value, (list, tuple)):
        return {"key": key, "value": {"arrayValue": {"values": [{"stringValue": v} for v in value]}}}
    return {"key": key, "value": {"stringValue": value}}


def nanos(when: datetime) -> str:
    return str(int(when.timestamp()) * 1_000_000_000 + when.microsecond * 1000)


def new_id(rng: random.Random, bits: int) -> str:
    return f"{rng.getrandbits(bits):0{bits // 4}x}"


def span(*, trace_id: str, span_id: str, name: str, start: datetime, duration_ms: int, attrs: dict,
         parent: str | None = None, error: bool = False, events: list | None = None) -> dict:
    return {
        "traceId": trace_id, "spanId": span_id, "parentSpanId": parent or "", "name": name, "kind": 3,
        "startTimeUnixNano": nanos(start), "endTimeUnixNano": nanos(start + timedelta(milliseconds=duration_ms)),
        "attributes": [attr(k, v) for k, v in attrs.items() if v is not None],
        "events": events or [],
        "status": {"code": 2, "message": "upstream failed"} if error else {},
    }


def chat_span(rng: random.Random, *, trace_id: str, start: datetime, parent: str | None = None,
              model: str = "gpt-4o-2024-08-06", provider: str = "openai", input_tokens: int | None = None,
              output_tokens: int | None = None, cache_read: int = 0, cache_write: int = 0, **extra) -> dict:
    input_tokens = rng.randint(800, 4000) if input_tokens is None else input_tokens
    output_tokens = rng.randint(20, 600) if output_tokens is None else output_tokens
    attrs = {
        "gen_ai.operation.name": "chat", "gen_ai.provider.name": provider,
        "gen_ai.request.model": model.rsplit("-20", 1)[0], "gen_ai.response.model": model,
        "gen_ai.response.id": f"chatcmpl-{new_id(rng, 64)}",
        "gen_ai.usage.input_tokens": input_tokens, "gen_ai.usage.output_tokens": output_tokens,
        "gen_ai.usage.cache_read.input_tokens": cache_read or None,
        "gen_ai.usage.cache_creation.input_tokens": cache_write or None,
        "gen_ai.response.finish_reasons": ["stop"], "gen_ai.request.temperature": 0.2,
        "gen_ai.input.messages": json.dumps([{"role": "user", "parts": [
            {"type": "text", "content": f"{PROMPT_MARKER}: plan a trip to Lisbon"}]}]),
        "gen_ai.output.messages": json.dumps([{"role": "assistant", "parts": [
            {"type": "text", "content": f"{RESPONSE_MARKER}: day 1, Alfama"}]}]),
        "gen_ai.prompt": f"{PROMPT_MARKER} legacy attribute",
        "enduser.id": "alice@acme.example",
    }
    attrs.update(extra)
    events = [{"timeUnixNano": nanos(start), "name": "gen_ai.content.prompt",
               "attributes": [attr("gen_ai.prompt", f"{PROMPT_MARKER} in an event")]}]
    return span(trace_id=trace_id, span_id=new_id(rng, 64), parent=parent, name=f"chat {model}", start=start,
                duration_ms=rng.randint(300, 4000), attrs=attrs, events=events)


def agent_run(rng: random.Random, *, start: datetime = START, agent: str = "trip-planner", chats: int = 3,
              **chat_kwargs) -> list[dict]:
    """invoke_agent -> `chats` chat spans (the last one calls a tool) -> one execute_tool span."""
    trace_id = new_id(rng, 128)
    root = span(trace_id=trace_id, span_id=new_id(rng, 64), name=f"invoke_agent {agent}", start=start,
                duration_ms=20_000, attrs={"gen_ai.operation.name": "invoke_agent", "gen_ai.agent.name": agent,
                                           "gen_ai.provider.name": "openai",
                                           # totals of the children: must not be priced again
                                           "gen_ai.usage.input_tokens": 99_999, "gen_ai.usage.output_tokens": 9_999})
    spans = [root]
    for i in range(chats):
        spans.append(chat_span(rng, trace_id=trace_id, parent=root["spanId"],
                               start=start + timedelta(seconds=1 + 5 * i), **chat_kwargs))
    spans.append(span(trace_id=trace_id, span_id=new_id(rng, 64), parent=spans[-1]["spanId"],
                      name="execute_tool get_weather", start=start + timedelta(seconds=17), duration_ms=120,
                      attrs={"gen_ai.operation.name": "execute_tool", "gen_ai.tool.name": "get_weather",
                             "gen_ai.tool.call.arguments": f'{{"city": "{PROMPT_MARKER}"}}'}))
    return spans


def export_request(spans: list[dict], *, service: str = "trip-app", environment: str = "prod",
                   **resource) -> dict:
    """An ExportTraceServiceRequest with one resource and one instrumentation scope."""
    resource_attrs = {"service.name": service, "deployment.environment.name": environment,
                      "telemetry.sdk.language": "python", **resource}
    return {"resourceSpans": [{
        "resource": {"attributes": [attr(k, v) for k, v in resource_attrs.items()]},
        "scopeSpans": [{"scope": {"name": "opentelemetry.instrumentation.openai_v2", "version": "2.1b0"},
                        "spans": spans}],
    }]}


def write_document(path: Path, doc: dict, *, compress: bool = False) -> Path:
    """One pretty-printed document per file (what an SDK's file/console exporter or a manual export gives)."""
    data = json.dumps(doc, indent=2).encode()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(gzip.compress(data) if compress else data)
    return path


def write_collector_lines(path: Path, docs: list[dict], *, compress: bool = False, raw_lines: dict | None = None
                          ) -> Path:
    """The Collector file exporter's layout: one document per line. `raw_lines` {index: bytes} inserts raw lines."""
    lines = [json.dumps(d, separators=(",", ":")).encode() for d in docs]
    for index, raw in sorted((raw_lines or {}).items()):
        lines.insert(index, raw)
    data = b"\n".join(lines) + b"\n"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(gzip.compress(data) if compress else data)
    return path
