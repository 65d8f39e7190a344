"""Forms of the courses pages."""

import logging

from django import forms
from django.contrib.auth.forms import AuthenticationForm, PasswordResetForm
from django.core.exceptions import ValidationError
from django.core.mail import EmailMultiAlternatives
from django.core.validators import validate_email
from django.template import loader
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy as _

from .auth_limits import password_reset_email_allowed
from .emails import bilingual_text
from .models import Course, ParticipantProfile
from .validators import NIP_LENGTH, login_username_normalize, nip_normalize

logger = logging.getLogger(__name__)
ISO_DATE = "%Y-%m-%d"


class NipAuthenticationForm(AuthenticationForm):
    """Log in with NIP (spaces ignored, as people often copy it grouped) or a staff username."""

    error_messages = {
        **AuthenticationForm.error_messages,
        # Django's sentence inserts the field's name ("nama pengguna") into a sentence that then reads badly.
        "invalid_login": _(
            "The NIP or the password is wrong. Check both and try again; "
            "capital and small letters in the password are not the same."
        ),
    }

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["username"].label = _("NIP")

    def clean_username(self) -> str:
        return login_username_normalize(self.cleaned_data.get("username", ""))


class ParticipantPasswordResetForm(PasswordResetForm):
    """A new-password link by NIP (spaces ignored) or by email address, sent to the account's address.

    Also reaches participants who never set a password (their invitation may have been lost). The
    field keeps Django's name, ``email``, though it takes a NIP too. Whatever was typed, the page
    that follows says "sent": it never tells whether an account exists.
    """

    email = forms.CharField(
        label=_("NIP or email address"),
        max_length=254,
        widget=forms.TextInput(attrs={"autocomplete": "username", "spellcheck": "false", "autocapitalize": "none"}),
    )

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._nip_account = None

    def clean_email(self) -> str:
        value = self.cleaned_data["email"].strip()
        nip = nip_normalize(value)
        if nip.isascii() and nip.isdigit():
            if len(nip) != NIP_LENGTH:
                raise ValidationError(
                    _("A NIP has 18 digits; you typed %(count)d. Check it, or type your email address instead."),
                    code="nip_length",
                    params={"count": len(nip)},
                )
            return nip
        try:
            validate_email(value)
        except ValidationError:
            raise ValidationError(
                _("Type your NIP (18 digits) or the email address of your account."), code="invalid"
            ) from None
        return value

    def _address(self) -> str | None:
        """The address the link goes to: the one typed, or that of the participant whose NIP was typed."""
        value = self.cleaned_data["email"]
        if "@" in value:
            return value
        profile = ParticipantProfile.objects.select_related("user").filter(nip=value, user__is_active=True).first()
        if profile is None or not profile.user.email:
            return None
        self._nip_account = profile.user
        return profile.user.email

    def get_users(self, email):
        if self._nip_account is not None:
            return iter([self._nip_account])
        from django.contrib.auth import get_user_model

        User = get_user_model()
        users = User._default_manager.filter(email__iexact=email, is_active=True)
        return (u for u in users if u.has_usable_password() or hasattr(u, "participant_profile"))

    def save(self, *args, **kwargs) -> None:
        # Beyond the address's allowance nothing is sent, yet the page says "sent" all the same: the
        # answer never tells whether the address has an account. A NIP counts against its account's
        # address, so typing the NIP and the address in turn does not double the allowance.
        address = self._address()
        if address is None or not password_reset_email_allowed(email=address):
            return
        self.cleaned_data["email"] = address
        super().save(*args, **kwargs)

    def send_mail(
        self, subject_template_name, email_template_name, context, from_email, to_email, html_email_template_name=None
    ) -> None:
        """The email in Indonesian with an English copy below, like the invitation; the subject in Indonesian."""
        with translation.override("id"):
            subject = "".join(loader.render_to_string(subject_template_name, context).splitlines())
        message = EmailMultiAlternatives(subject, bilingual_text(email_template_name, context), from_email, [to_email])
        try:
            message.send()
        except Exception:  # noqa: BLE001 - as Django's own form: the page must not say whether it worked
            logger.exception("Failed to send password reset email to %s", context["user"].pk)


class CohortForm(forms.Form):
    course = forms.ModelChoiceField(label=_("Course"), queryset=Course.objects.order_by("title"), empty_label=None)
    name = forms.CharField(label=_("Cohort name"), max_length=150)
    # A date input takes ISO dates whatever the page's language (its DATE_INPUT_FORMATS come first otherwise).
    starts_on = forms.DateField(label=_("Start date"), widget=forms.DateInput(attrs={"type": "date"}, format=ISO_DATE))
    ends_on = forms.DateField(label=_("End date"), widget=forms.DateInput(attrs={"type": "date"}, format=ISO_DATE))
    # Shown to a participant who needs help (e.g. out of quiz attempts); the email is also notified.
    contact_name = forms.CharField(label=_("Contact person"), max_length=150, required=False)
    contact_email = forms.EmailField(label=_("Contact email"), required=False)
    contact_phone = forms.CharField(label=_("Contact phone"), max_length=40, required=False)

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


class ActionPlanForm(forms.Form):
    """The four fields of the action plan; the service checks the lengths (its constants set the limits here)."""

    change = forms.CharField(
        label=_("The change you will lead"),
        help_text=_("What changes, in which service or unit, and for whom."),
        widget=forms.Textarea(attrs={"rows": 4}),
    )
    lead = forms.CharField(
        label=_("Leader and partners"),
        help_text=_("Who leads it day to day, and with whom."),
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    due_on = forms.DateField(
        label=_("Deadline"),
        help_text=_("The date by which the change can be checked."),
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )
    indicator = forms.CharField(
        label=_("Success indicator"),
        help_text=_("How success is measured: baseline, target, data source, who reviews it."),
        widget=forms.Textarea(attrs={"rows": 4}),
    )

    def __init__(self, *args, **kwargs):
        from .services import ACTION_PLAN_TEXT_MAX, ACTION_PLAN_TEXT_MIN

        super().__init__(*args, **kwargs)
        for name in ("change", "lead", "indicator"):
            self.fields[name].widget.attrs.update(minlength=ACTION_PLAN_TEXT_MIN, maxlength=ACTION_PLAN_TEXT_MAX)


class ParticipantCorrectForm(forms.Form):
    """An operator's correction of a participant's name, position or unit (participant_correct checks the rest)."""

    full_name = forms.CharField(label=_("Full name"), max_length=150)
    position = forms.CharField(label=_("Position"), max_length=200, required=False)
    unit = forms.CharField(label=_("Unit (OPD)"), max_length=200, required=False)


class ParticipantRemoveForm(forms.Form):
    reason = forms.CharField(label=_("Reason"), max_length=500)
