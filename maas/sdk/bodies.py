"""Request bodies from pydantic models: what the caller set, and every union's tag.

The client sends only the fields a caller set (``exclude_unset``), so that the API's own
defaults apply to the rest. A tag of a discriminated union, though, has a default that is its
only value (``kind: Literal["huggingface"] = "huggingface"``): left unset, it was left out,
and the API, which needs it to tell the union's members apart, answered 422
("Unable to extract tag using discriminator 'kind'"). :func:`request_body` puts every such
tag back, however deep.
"""

from __future__ import annotations

from typing import Any, Literal, get_args, get_origin

import pydantic


def request_body(model: pydantic.BaseModel) -> dict[str, Any]:
    """``model`` as the JSON object to send: its set fields, and the tags of its unions.

    Examples
    --------
    >>> from schemas.packaging import HuggingFaceSource, PackagingSettings
    >>> request_body(PackagingSettings(source=HuggingFaceSource(model_id="org/model")))
    {'source': {'kind': 'huggingface', 'model_id': 'org/model'}}
    """
    body = model.model_dump(mode="json", exclude_unset=True)
    _restore_tags(model, body)
    return body


def _restore_tags(value: Any, dumped: Any) -> None:
    if isinstance(value, pydantic.BaseModel) and isinstance(dumped, dict):
        fields = type(value).model_fields
        for name, info in fields.items():
            if name not in dumped and _is_tag(info.annotation):
                dumped[name] = value.model_dump(mode="json", include={name})[name]
            if name in dumped:
                _restore_tags(getattr(value, name), dumped[name])
        # In the model's order, as a full dump would have it (the tag first, as usual).
        ordered = {name: dumped.pop(name) for name in fields if name in dumped}
        dumped.update(ordered)
    elif isinstance(value, list | tuple) and isinstance(dumped, list):
        for item, dumped_item in zip(value, dumped, strict=False):
            _restore_tags(item, dumped_item)
    elif isinstance(value, dict) and isinstance(dumped, dict):
        for key, item in value.items():
            if key in dumped:
                _restore_tags(item, dumped[key])


def _is_tag(annotation: Any) -> bool:
    # A literal of one value is a tag (or a value that can be nothing else, harmless to
    # send); a choice among several (``"cost" | "latency"``) is left to the API's default.
    return get_origin(annotation) is Literal and len(get_args(annotation)) == 1


__all__ = ["request_body"]
