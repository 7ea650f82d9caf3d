"""My notices, and marking them read."""

from __future__ import annotations

from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from gongzhi.core.errors import NotFound
from gongzhi.notifications import queries, services


def notice_list(request: HttpRequest) -> HttpResponse:
    page = Paginator(queries.notices_for(request.user), 50).get_page(request.GET.get("page"))
    return render(request, "notifications/list.html", {"page": page})


@require_POST
def read_notice(request: HttpRequest, notice_id: int) -> HttpResponse:
    notice = queries.notices_for(request.user).filter(pk=notice_id).first()
    if notice is None:
        raise NotFound(_("No such notice."))
    services.mark_read(notice, actor=request.user)
    return redirect("cases:detail", case_id=notice.case_id)
