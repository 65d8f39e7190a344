"""Tokens for the password links sent in invitation emails."""

from django.contrib.auth.tokens import PasswordResetTokenGenerator
from django.utils.crypto import constant_time_compare
from django.utils.http import base36_to_int

from .conf import courses_setting


class InvitationTokenGenerator(PasswordResetTokenGenerator):
    """Like a password-reset token (void once the password is set or the user logs in), but valid
    for ``COURSES_INVITATION_TIMEOUT_DAYS`` instead of ``PASSWORD_RESET_TIMEOUT``."""

    key_salt = "courses.tokens.InvitationTokenGenerator"

    def check_token(self, user, token) -> bool:
        if not (user and token):
            return False
        try:
            ts_b36, _ = token.split("-")
            ts = base36_to_int(ts_b36)
        except ValueError:
            return False
        if not any(
            constant_time_compare(self._make_token_with_timestamp(user, ts, secret), token)
            for secret in [self.secret, *self.secret_fallbacks]
        ):
            return False
        max_age = courses_setting("INVITATION_TIMEOUT_DAYS") * 24 * 3600
        return (self._num_seconds(self._now()) - ts) <= max_age


invitation_token_generator = InvitationTokenGenerator()
