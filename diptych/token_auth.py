"""Token authentication for the API (``Authorization: Token …``): DRF's, refusing expired
tokens and noting each token's last use for its owner's tokens page (projects.api_tokens).

Its own module: DRF imports the authentication classes while ``rest_framework.views`` is
still loading, so this module must not import DRF's views (diptych.security does).
"""
from rest_framework.authentication import TokenAuthentication

from projects.api_tokens import check_live, record_use


class ExpiringTokenAuthentication(TokenAuthentication):

    def authenticate(self, request):
        result = super().authenticate(request)
        if result is not None:
            from .security import client_ip   # loaded after DRF's views, see the module doc

            record_use(result[1], client_ip(request))
        return result

    def authenticate_credentials(self, key):
        user, token = super().authenticate_credentials(key)
        check_live(token)
        return user, token
