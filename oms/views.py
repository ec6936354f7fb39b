from django.contrib.auth.decorators import login_required
from django.shortcuts import render

from orders.selectors import status_counts


@login_required
def home(request):
    return render(request, "oms/home.html", {"status_counts": status_counts()})
