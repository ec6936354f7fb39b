"""Form fields shared by the back office's forms."""

from __future__ import annotations

import json
from typing import Any

from django import forms
from django.conf import settings

from oms import untrusted


class JSONField(forms.JSONField):
    """A JSON document typed into a form, held to the API's rules: nesting at most
    OMS_API_MAX_JSON_DEPTH deep (checked before decoding), no number beyond any column
    and no NUL or lone surrogate in any string (the error names the first one's path).
    With `indent`, a document is shown pretty-printed, one field a line."""

    def __init__(self, *, indent: int | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.indent = indent

    def prepare_value(self, value: Any) -> Any:
        if isinstance(value, forms.fields.InvalidJSONInput):
            return value
        return json.dumps(value, ensure_ascii=False, cls=self.encoder, indent=self.indent)

    def bound_data(self, data: Any, initial: Any) -> Any:
        # Shown back as typed unless it is acceptable JSON: Django would decode it again
        # unchecked and then fail to encode a lone surrogate or recurse too deep.
        if self.disabled or data is None:
            return super().bound_data(data, initial)
        try:
            return self.to_python(data)
        except forms.ValidationError:
            return forms.fields.InvalidJSONInput(untrusted.printable(data))

    def to_python(self, value: Any) -> Any:
        if self.disabled or not isinstance(value, str) or value in self.empty_values:
            return super().to_python(value)
        try:
            data = untrusted.json_loads(value, max_depth=settings.OMS_API_MAX_JSON_DEPTH)
        except untrusted.TooDeep as exc:
            raise forms.ValidationError(f"The JSON {exc}.", code="too_deep") from None
        except ValueError as exc:
            raise forms.ValidationError(f"Enter valid JSON: {exc}.", code="invalid") from None
        if found := untrusted.first_refusal(data):
            raise forms.ValidationError(found.message, code=found.code)
        return data
