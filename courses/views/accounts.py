"""Setting a password through an invitation or a reset link: the first one accepts the invitation."""

from django.contrib.auth import views as auth_views
from django.utils import timezone

from ..models import ParticipantProfile


class PasswordSetView(auth_views.PasswordResetConfirmView):
    """Django's confirm view; once the password is saved, the participant's invitation is accepted."""

    def form_valid(self, form):
        response = super().form_valid(form)
        ParticipantProfile.objects.filter(user=form.user, accepted_at__isnull=True).update(accepted_at=timezone.now())
        return response
