"""The coder's key bindings page (/code/keys/): one field per remappable action."""
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render

from .keymap_models import ACTIONS, KeymapError, keymap_for, save_keymap


@login_required
def keys_page(request):
    current = keymap_for(request.user)
    if request.method == "POST":
        wanted = {a: request.POST.get(a, "") for a in ACTIONS}
        if "reset" in request.POST:
            wanted = {}
        try:
            save_keymap(request.user, wanted)
            messages.success(request, "Keys saved: the coding pages use them from now on.")
            return redirect("annotation:keys")
        except KeymapError as exc:
            messages.error(request, str(exc))
            current = {a: wanted.get(a) or current[a] for a in ACTIONS}
    rows = [{"action": a, "label": label, "key": current[a], "default": default}
            for a, (default, label) in ACTIONS.items()]
    return render(request, "annotation/keys.html", {"rows": rows})
