from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView
from .home import home
from .security import ThrottledLoginView, admin_login, obtain_auth_token

from projects.api_tokens import tokens_page
from projects.urls import api_urlpatterns

urlpatterns = [
    # Before the admin's own login URL: the same page under the failed-login lock.
    path("admin/login/", admin_login),
    path("admin/", admin.site.urls),
    # Before django.contrib.auth.urls: the same URL name, with failed-login throttling.
    path("accounts/login/", ThrottledLoginView.as_view(), name="login"),
    path("accounts/tokens/", tokens_page, name="api-tokens"),
    path("accounts/", include("django.contrib.auth.urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="api-docs"),
    path("api/token/", obtain_auth_token, name="api-token"),
    path("", include("annotation.urls")),  # /code/… pages and /api/annotation/…
    path("", include("scoring.urls")),  # /scoring/… pages and /api/scoring/…
    path("api/", include(api_urlpatterns)),
    path("", home, name="home"),  # before projects' "" (its project list): coders go to their rounds
    path("", include("projects.urls")),
]
