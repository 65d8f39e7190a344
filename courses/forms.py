"""Forms of the courses pages."""

from django import forms
from django.contrib.auth.forms import AuthenticationForm, PasswordResetForm
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .auth_limits import password_reset_email_allowed
from .models import Course
from .validators import login_username_normalize


class NipAuthenticationForm(AuthenticationForm):
    """Log in with NIP (spaces ignored, as people often copy it grouped) or a staff username."""

    def clean_username(self) -> str:
        return login_username_normalize(self.cleaned_data.get("username", ""))


class ParticipantPasswordResetForm(PasswordResetForm):
    """Also reaches participants who never set a password (their invitation may have been lost)."""

    def get_users(self, email):
        from django.contrib.auth import get_user_model

        User = get_user_model()
        users = User._default_manager.filter(email__iexact=email, is_active=True)
        return (u for u in users if u.has_usable_password() or hasattr(u, "participant_profile"))

    def save(self, *args, **kwargs) -> None:
        # Beyond the address's allowance nothing is sent, yet the page says "sent" all the same: the
        # answer never tells whether the address has an account.
        if password_reset_email_allowed(email=self.cleaned_data["email"]):
            super().save(*args, **kwargs)


class CohortForm(forms.Form):
    course = forms.ModelChoiceField(label=_("Course"), queryset=Course.objects.order_by("title"), empty_label=None)
    name = forms.CharField(label=_("Cohort name"), max_length=150)
    starts_on = forms.DateField(label=_("Start date"), widget=forms.DateInput(attrs={"type": "date"}))
    ends_on = forms.DateField(label=_("End date"), widget=forms.DateInput(attrs={"type": "date"}))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if not self.is_bound:
            self.initial.setdefault("starts_on", timezone.localdate())


class EnrollmentUploadForm(forms.Form):
    file = forms.FileField(
        label=_("Participant file (CSV or XLSX)"),
        widget=forms.ClearableFileInput(
            attrs={"accept": ".csv,.xlsx,text/csv,application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}
        ),
    )
