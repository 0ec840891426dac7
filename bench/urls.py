"""The product's URLs plus the baselines, which exist only in the benchmark."""

from django.urls import path

from bench import views
from config.urls import urlpatterns as product_urlpatterns

# First: the product's last pattern is the React client's catch-all (config/client.py).
urlpatterns = [
    path("bench/bare/", views.bare, name="bench-bare"),
    path("bench/tiers/", views.tiers_json, name="bench-tiers"),
    path("bench/stats/", views.stats, name="bench-stats"),
    *product_urlpatterns,
]
