from __future__ import annotations

import pytest

from stores.protocols import Stores

pytestmark = pytest.mark.anyio


async def test_every_store_answers_ping(stores: Stores) -> None:
    for store in stores.by_domain().values():
        await store.ping()
