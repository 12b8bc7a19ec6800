"""Images for coders, by the sampled post's opaque public id only.

The original file name can carry the event or the fake/real label (``images/boston_fake_15.jpg``)
and image metadata (EXIF, comments) can carry anything: coders get a re-encoded JPEG thumbnail
with no metadata, under a URL, headers and alt text that hold only the public id.

Pass isolation: the text pass of a cluster is judged without its images, so a coder gets a
cluster's images only once their text pass of that cluster is complete (403 before), whatever
URL they type; the page hides them too.
"""
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse, HttpResponseForbidden

from projects.services.images import ImageNotFound, thumbnail

from .passes import Pass
from .services import access
from .services.assignment import sample_progress

CODER_SIZES = ("thumb", "medium")   # never the original file: it keeps its metadata


@login_required
def coder_image(request, public_id):
    post = access.assigned_post_or_404(request.user, public_id)
    size = request.GET.get("size", "thumb")
    if size not in CODER_SIZES or not post.image:
        raise Http404("not found")
    sample = post.cluster_sample
    progress = sample_progress([sample], request.user)[sample.pk]["passes"]
    if not progress[Pass.TEXT.value]["complete"]:
        return HttpResponseForbidden("finish the text-only pass of this cluster first",
                                     content_type="text/plain; charset=utf-8")
    try:
        file = thumbnail(post.cluster_sample.round.dataset, post.image, size)
    except ImageNotFound:
        raise Http404("not found") from None
    # Bytes, not a FileResponse: no file name reaches the Content-Disposition header.
    response = HttpResponse(file.read_bytes(), content_type="image/jpeg")
    response["Cache-Control"] = "private, max-age=86400"
    return response
