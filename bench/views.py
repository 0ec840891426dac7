"""Baselines: what the same server does with (almost) no work of ours.

- ``bare``: reads the body, answers 200. The webhook's baseline (same request,
  same middleware, same server).
- ``tiers_json``: the data of the GraphQL ``tiers`` query (active tiers by
  position, each with its active prices), read with the same two SQL queries
  and answered by ``JsonResponse`` in exactly the JSON the GraphQL endpoint
  gives (``bench.run`` checks that they are equal). No cache: the plain view.
"""

from __future__ import annotations

import os

from django.db.models import Prefetch
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt

from bench import instrument
from payments.selectors import active_prices, tier_list


@csrf_exempt  # like the webhook
def bare(request: HttpRequest) -> HttpResponse:
    request.body  # noqa: B018 (read, like the webhook reads it)
    return HttpResponse(b'{"received": true}', content_type="application/json")


def _enum(value: str | None) -> str | None:
    return value.upper() if value else None


def tiers_json(request: HttpRequest) -> JsonResponse:
    tiers = tier_list().prefetch_related(Prefetch("prices", queryset=active_prices(), to_attr="active_prices"))
    data = [
        {
            "id": str(tier.pk),
            "slug": tier.slug,
            "name": tier.name,
            "description": tier.description,
            "manifest": tier.manifest,
            "position": tier.position,
            "prices": [
                {
                    "id": str(price.pk),
                    "currency": price.currency,
                    "unitAmount": price.unit_amount,
                    "type": _enum(price.type),
                    "interval": _enum(price.interval),
                    "intervalCount": price.interval_count,
                    "display": price.display,
                }
                for price in tier.active_prices
            ],
        }
        for tier in tiers
    ]
    return JsonResponse({"data": {"tiers": data}})


def stats(request: HttpRequest) -> JsonResponse:
    """This process: its pid and the Stripe calls it made since it started."""
    return JsonResponse({"pid": os.getpid(), "stripe_calls": instrument.stripe_calls_total()})
