from django import forms


class RunForm(forms.Form):
    """Start a run now: a real one, or a dry run that changes nothing."""

    dry_run = forms.BooleanField(required=False)
