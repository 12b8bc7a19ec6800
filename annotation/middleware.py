"""Coding pages and their JSON never come from the browser's cache.

A page that embeds a coder's labels (or the JSON that carries them) is out of date as soon as the
coder saves; shown again from the HTTP cache by Back/Forward it would claim "0 / 11" while the
server holds eleven labels, and the next save would meet a conflict with the coder's own earlier
value. ``Cache-Control: no-store`` makes the browser ask the server again (the back/forward cache
is handled in coding.js, which reloads a page restored from it).
"""
from django.utils.cache import add_never_cache_headers

# URL namespaces whose responses carry live coding state (pages and API).
NO_STORE_NAMESPACES = frozenset({"annotation", "annotation-api"})


class NoStoreCodingMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        match = getattr(request, "resolver_match", None)
        # A view that chose its own caching (the coders' image thumbnails) keeps it.
        if (match is not None and NO_STORE_NAMESPACES.intersection(match.namespaces)
                and not response.has_header("Cache-Control")):
            add_never_cache_headers(response)
        return response
