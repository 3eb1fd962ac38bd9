"""X-Ray's read side on the local runtime: traces assembled and summarised as AWS does.

Why this exists: moto 5.2.5 stores the documents that ``PutTraceSegments`` receives but
answers the read APIs only roughly: ``GetTraceSummaries`` has no annotations, entry point,
service ids or response time, whole-second durations, and the end of a trace taken from the
segment that started last; ``BatchGetTraces`` returns subsegments that were sent on their own
(as the SDK streams them, and as Lambda's facade segment requires) as separate documents.
This module computes both answers from moto's stored documents:

- ``BatchGetTraces``: each independently sent subsegment (``"type": "subsegment"``) is
  nested into the document of its ``parent_id``, as X-Ray does, and the trace's
  ``Duration`` is in seconds with fractions;
- ``GetTraceSummaries``: ``Duration`` (earliest start to latest end), ``ResponseTime`` (the
  root segment's), ``StartTime``, ``EntryPoint`` and ``ServiceIds`` (segment name and
  origin), ``Annotations`` (every key in the trace with its distinct values and the
  services that recorded them), ``Http`` and ``Users`` of the root segment, and
  ``HasFault``/``HasError``/``HasThrottle`` of the root segment, as the API defines them.

Not emulated: filter expressions (moto's ``InternalFailure`` stays), ``TimeRangeType``
(traces are selected by their start time), paging (one page), sampling of the summaries, and
the 50-annotation cap.
"""

from __future__ import annotations

import json
import time
from typing import TYPE_CHECKING, Any

from moto.core.exceptions import AWSError
from moto.xray.models import XRayBackend

from maas.local.patching import replace

if TYPE_CHECKING:
    from contextlib import ExitStack
    from datetime import datetime


def assemble(documents: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The trace's segments, with independently sent subsegments nested into their parents.

    A subsegment whose parent never arrived stays a document of its own, as X-Ray keeps it.
    """
    segments = [dict(document) for document in documents if document.get("type") != "subsegment"]
    pending = [dict(document) for document in documents if document.get("type") == "subsegment"]
    index: dict[str, dict[str, Any]] = {}
    for segment in segments:
        _index(segment, index)
    progress = True
    while pending and progress:
        progress = False
        for subsegment in list(pending):
            parent = index.get(str(subsegment.get("parent_id")))
            if parent is None:
                continue
            pending.remove(subsegment)
            progress = True
            for key in ("type", "trace_id", "parent_id"):
                subsegment.pop(key, None)
            children = parent.setdefault("subsegments", [])
            if all(child.get("id") != subsegment.get("id") for child in children):
                children.append(subsegment)
                children.sort(key=lambda child: float(child.get("start_time", 0)))
            _index(subsegment, index)
    return sorted(segments, key=lambda doc: float(doc.get("start_time", 0))) + pending


def summary(trace_id: str, segments: list[dict[str, Any]]) -> dict[str, Any]:
    """The ``TraceSummary`` of one trace, from its assembled segments."""
    root = _root(segments)
    starts = [float(segment["start_time"]) for segment in segments]
    ends = [end for segment in segments for end in _end_times(segment)]
    start = min(starts)
    root_end = root.get("end_time")
    service_ids = _unique([_service_id(segment) for segment in segments])
    answer: dict[str, Any] = {
        "Id": trace_id,
        "StartTime": start,
        "Duration": round(max(ends, default=start) - start, 6),
        "ResponseTime": round(float(root_end) - float(root["start_time"]), 6)
        if root_end is not None
        else 0.0,
        "HasFault": bool(root.get("fault")),
        "HasError": bool(root.get("error")),
        "HasThrottle": bool(root.get("throttle")),
        "IsPartial": any(segment.get("in_progress") for segment in segments),
        "Http": _http(root),
        "Annotations": _annotations(segments),
        "Users": [
            {"UserName": segment["user"], "ServiceIds": [_service_id(segment)]}
            for segment in segments
            if segment.get("user")
        ],
        "ServiceIds": service_ids,
        "EntryPoint": _service_id(root),
        "Revision": len(segments),
    }
    return answer


def install(stack: ExitStack) -> None:
    """Answer moto's ``GetTraceSummaries`` and ``BatchGetTraces`` until ``stack`` closes."""
    stack.enter_context(replace(XRayBackend, "get_trace_summary", _get_trace_summary))
    stack.enter_context(replace(XRayBackend, "get_trace_ids", _get_trace_ids))


def _stored(backend: XRayBackend) -> dict[str, list[dict[str, Any]]]:
    # moto keeps a dict of traces whose segments carry the raw document; the collector's
    # thread adds to it while a reader iterates, so the dict is copied first.
    traces = dict(backend._segment_collection._traces)
    return {
        trace_id: assemble([json.loads(segment.raw) for segment in list(trace["segments"])])
        for trace_id, trace in traces.items()
        if trace["segments"]
    }


def _get_trace_summary(
    backend: XRayBackend, start_time: datetime, end_time: datetime, filter_expression: Any
) -> dict[str, Any]:
    if filter_expression is not None:
        raise AWSError(
            "filter expressions are not emulated by the local runtime",
            exception_type="InternalFailure",
            status=500,
        )
    # moto's request layer drops the fractions of both bounds; the window is widened to the
    # whole seconds it covers, or a trace that started in the window's last second is missed.
    since, until = start_time.timestamp(), end_time.timestamp() + 1
    summaries = [
        summary(trace_id, segments)
        for trace_id, segments in _stored(backend).items()
        if since <= min(float(segment["start_time"]) for segment in segments) <= until
    ]
    summaries.sort(key=lambda item: float(item["StartTime"]))
    return {
        "ApproximateTime": int(time.time()),
        "TracesProcessedCount": len(summaries),
        "TraceSummaries": summaries,
    }


def _get_trace_ids(backend: XRayBackend, trace_ids: list[str]) -> dict[str, Any]:
    stored = _stored(backend)
    traces = []
    for trace_id in trace_ids:
        segments = stored.get(trace_id)
        if segments is None:
            continue
        traces.append(
            {
                "Id": trace_id,
                "Duration": summary(trace_id, segments)["Duration"],
                "LimitExceeded": False,
                "Segments": [
                    {"Id": segment["id"], "Document": json.dumps(segment)} for segment in segments
                ],
            }
        )
    return {
        "Traces": traces,
        "UnprocessedTraceIds": [trace_id for trace_id in trace_ids if trace_id not in stored],
    }


def _index(entity: dict[str, Any], index: dict[str, dict[str, Any]]) -> None:
    index[str(entity.get("id"))] = entity
    for child in entity.get("subsegments", ()):
        _index(child, index)


def _walk(entity: dict[str, Any]) -> list[dict[str, Any]]:
    found = [entity]
    for child in entity.get("subsegments", ()):
        found.extend(_walk(child))
    return found


def _end_times(segment: dict[str, Any]) -> list[float]:
    return [float(item["end_time"]) for item in _walk(segment) if item.get("end_time") is not None]


def _root(segments: list[dict[str, Any]]) -> dict[str, Any]:
    # The root is the segment no other segment of the trace is a parent of: the entry point.
    ids = {entity.get("id") for segment in segments for entity in _walk(segment)}
    roots = [segment for segment in segments if segment.get("parent_id") not in ids]
    return min(roots or segments, key=lambda segment: float(segment["start_time"]))


def _service_id(segment: dict[str, Any]) -> dict[str, Any]:
    service: dict[str, Any] = {"Name": segment.get("name"), "Names": [segment.get("name")]}
    if segment.get("origin"):
        service["Type"] = segment["origin"]
    return service


def _unique(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    seen: list[dict[str, Any]] = []
    for item in items:
        if item not in seen:
            seen.append(item)
    return seen


def _annotations(segments: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    found: dict[str, list[dict[str, Any]]] = {}
    for segment in segments:
        service = _service_id(segment)
        for entity in _walk(segment):
            for key, value in (entity.get("annotations") or {}).items():
                typed = _annotation_value(value)
                values = found.setdefault(key, [])
                same = next((item for item in values if item["AnnotationValue"] == typed), None)
                if same is None:
                    values.append({"AnnotationValue": typed, "ServiceIds": [service]})
                elif service not in same["ServiceIds"]:
                    same["ServiceIds"].append(service)
    return found


def _annotation_value(value: Any) -> dict[str, Any]:
    if isinstance(value, bool):
        return {"BooleanValue": value}
    if isinstance(value, int | float):
        return {"NumberValue": value}
    return {"StringValue": str(value)}


def _http(segment: dict[str, Any]) -> dict[str, Any]:
    http = segment.get("http") or {}
    request, response = http.get("request") or {}, http.get("response") or {}
    fields = {
        "HttpURL": request.get("url"),
        "HttpMethod": request.get("method"),
        "UserAgent": request.get("user_agent"),
        "ClientIp": request.get("client_ip"),
        "HttpStatus": response.get("status"),
    }
    return {key: value for key, value in fields.items() if value is not None}


__all__ = ["assemble", "install", "summary"]
