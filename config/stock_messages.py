"""Django's own messages that people see, marked here so the project's catalogue keeps its wording of them.

``config/locale`` (LOCALE_PATHS) is read before Django's catalogues, so a translation there of one of
Django's exact msgids replaces Django's. makemessages runs with ``--no-obsolete`` and would drop an
entry no source names: this module names them. Each msgid is copied verbatim from the installed
Django (``django/contrib/auth/…``, ``django/forms/fields.py``, ``django/core/validators.py``,
``django/contrib/admin/forms.py``); when Django changes one, the test of the Indonesian pages fails.
Nothing imports this module at run time.
"""

from django.utils.translation import gettext_noop, ngettext_lazy

MESSAGES = (
    # django/contrib/auth/forms.py: sign-in, reset and set-password forms
    gettext_noop("Please enter a correct %(username)s and password. Note that both fields may be case-sensitive."),
    gettext_noop("This account is inactive."),
    gettext_noop("The two password fields didn’t match."),
    gettext_noop("Password"),
    gettext_noop("Password confirmation"),
    gettext_noop("Enter the same password as before, for verification."),
    gettext_noop("New password"),
    gettext_noop("New password confirmation"),
    gettext_noop("Email"),
    gettext_noop("Reset password"),
    # django/contrib/auth/models.py and base_user.py: field names the similarity rule names
    gettext_noop("password"),
    gettext_noop("email address"),
    # django/contrib/auth/password_validation.py: the password rules
    gettext_noop("The password is too similar to the %(verbose_name)s."),
    gettext_noop("Your password can’t be too similar to your other personal information."),
    gettext_noop("This password is too common."),
    gettext_noop("Your password can’t be a commonly used password."),
    gettext_noop("This password is entirely numeric."),
    gettext_noop("Your password can’t be entirely numeric."),
    # django/contrib/admin/forms.py: the admin's sign-in
    gettext_noop(
        "Please enter the correct %(username)s and password for a staff account. "
        "Note that both fields may be case-sensitive."
    ),
    # django/forms/fields.py and django/core/validators.py: any form
    gettext_noop("This field is required."),
    gettext_noop("Enter a valid email address."),
)

PLURAL_MESSAGES = (
    ngettext_lazy(
        "This password is too short. It must contain at least %d character.",
        "This password is too short. It must contain at least %d characters.",
        "min_length",
    ),
    ngettext_lazy(
        "Your password must contain at least %(min_length)d character.",
        "Your password must contain at least %(min_length)d characters.",
        "min_length",
    ),
    ngettext_lazy(
        "Ensure this value has at most %(limit_value)d character (it has %(show_value)d).",
        "Ensure this value has at most %(limit_value)d characters (it has %(show_value)d).",
        "limit_value",
    ),
)
