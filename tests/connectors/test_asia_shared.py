"""What the Shopee, TikTok Shop and Lazada connectors share, checked once for each against its
stand-in: a refused access token is refreshed once and the call retried; the platform's failures
become plain ConnectorErrors. Each platform's own file keeps its signing vectors, pulls and
refresh-token rotation (their lifetimes differ)."""
from datetime import date

import pytest

from kpiapp.connectors.base import REGISTRY, ConnectorError, Failure, MemoryTokens
from kpiapp.connectors.fake import lazada, shopee, tiktok
from tests.connectors.asia_stand_in import StandIn

PLATFORMS = {  # store code, credentials, settings, refresh path, a day range for the orders pull
    "lazada": ("LZD-MY", {k: lazada.DEMO[k] for k in ("app_key", "app_secret", "refresh_token")},
               {"timezone": "Asia/Kuala_Lumpur"}, "/rest/auth/token/refresh", 1),
    "tiktok": ("TTS-UK", {k: tiktok.DEMO[k] for k in ("app_key", "app_secret", "refresh_token")},
               {"shop_cipher": tiktok.DEMO["shop_cipher"], "timezone": "Europe/London"},
               "/api/v2/token/refresh", 1),
    "shopee": ("SHP-SG", {k: shopee.DEMO[k] for k in ("partner_id", "partner_key", "refresh_token")},
               {"shop_id": shopee.DEMO["shop_id"], "timezone": "Asia/Singapore"},
               "/api/v2/auth/access_token/get", 2),
}


def connector(stand_in, tokens=None, client=None):
    store_code, credentials, settings, _path, _days = PLATFORMS[stand_in.platform]
    return REGISTRY[stand_in.platform](stand_in.context(store_code, credentials, settings, tokens, client))


@pytest.fixture(params=sorted(PLATFORMS))
def stand_in(request):
    return StandIn(request.param)


def test_a_refused_access_token_is_refreshed_once_and_the_call_retried(stand_in):
    far = str(int(stand_in.clock.unix()) + 86400)
    tokens = MemoryTokens(access_token="at-unknown-to-the-platform", access_token_expires_at=far)
    connector(stand_in, tokens).test()
    assert len(tokens.saved) == 1 and tokens.values["access_token"] != "at-unknown-to-the-platform"
    assert stand_in.calls().count(PLATFORMS[stand_in.platform][3]) == 1


@pytest.mark.parametrize("failure, expected", [("expired_token", Failure.auth_expired),
                                               ("truncated", Failure.truncated),
                                               ("throttle", Failure.throttled)])
def test_failures_become_plain_connector_errors(stand_in, failure, expected):
    stand_in.fail(failure)
    client = stand_in.client(attempts=2)
    last_day = PLATFORMS[stand_in.platform][4]
    with pytest.raises(ConnectorError) as caught:
        list(connector(stand_in, client=client).pull("orders", date(2026, 11, 1), date(2026, 11, last_day)))
    assert caught.value.failure == expected
