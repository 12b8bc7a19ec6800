"""When and from where an API token was last used: shown to its owner on /accounts/tokens/,
so a token used from an unknown address is noticed. Goes with the token (a new token starts
blank)."""
from django.db import models
from rest_framework.authtoken.models import Token


class TokenUse(models.Model):
    token = models.OneToOneField(Token, on_delete=models.CASCADE, primary_key=True,
                                 related_name="use")
    last_used_at = models.DateTimeField()
    last_used_from = models.CharField(max_length=45, blank=True, help_text="client address")

    def __str__(self):
        return f"{self.token_id[:4]}… used {self.last_used_at:%Y-%m-%d %H:%M}"
