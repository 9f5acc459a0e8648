"""The DevTools events the recorder reads, typed (only the fields it uses): the Network domain for
requests, cookies offered and WebSockets, the Target domain for workers."""

from __future__ import annotations

from typing import Any, NotRequired, TypedDict

__all__ = [
    "AttachedToTarget",
    "LoadingFailed",
    "LoadingFinished",
    "MessageFromTarget",
    "RequestWillBeSent",
    "ResponseExtraInfo",
    "ResponseReceived",
    "TargetCreated",
    "TargetInfo",
    "WebSocketCreated",
    "WebSocketFrameSent",
]


class _Request(TypedDict):
    url: str
    method: NotRequired[str]
    postData: NotRequired[str]


class _Response(TypedDict):
    status: NotRequired[int]


class RequestWillBeSent(TypedDict):
    requestId: str
    request: _Request
    type: NotRequired[str]
    documentURL: NotRequired[str]
    frameId: NotRequired[str]
    initiator: NotRequired[dict[str, Any]]
    redirectResponse: NotRequired[_Response]


class ResponseReceived(TypedDict):
    requestId: str
    response: _Response


class LoadingFinished(TypedDict):
    requestId: str


class LoadingFailed(TypedDict):
    requestId: str
    errorText: NotRequired[str]
    canceled: NotRequired[bool]
    blockedReason: NotRequired[str]
    corsErrorStatus: NotRequired[dict[str, str]]


class ResponseExtraInfo(TypedDict):
    requestId: str
    headers: NotRequired[dict[str, str]]
    blockedCookies: NotRequired[list[dict[str, Any]]]


class WebSocketCreated(TypedDict):
    requestId: str
    url: str
    initiator: NotRequired[dict[str, Any]]


class WebSocketFrameSent(TypedDict):
    requestId: str
    response: dict[str, Any]  # {opcode, mask, payloadData}


class TargetInfo(TypedDict):
    targetId: str
    type: str
    url: str
    browserContextId: NotRequired[str]


class AttachedToTarget(TypedDict):
    sessionId: str
    targetInfo: TargetInfo
    waitingForDebugger: NotRequired[bool]


class MessageFromTarget(TypedDict):
    sessionId: str
    message: str


class TargetCreated(TypedDict):
    targetInfo: TargetInfo
