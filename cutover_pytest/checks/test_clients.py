"""Clients: the share of installations on an SDK too old to change its server URL (CLI-01)."""
from __future__ import annotations

from collections.abc import Callable

import pytest

from cutover.data import minimum_label, sdk_table
from cutover.model import Target
from cutover.session import Session


@pytest.mark.criterion("CLI-01")
def test_old_sdk_share(target: Target, session: Session, report_table: Callable[..., None],
                       record_facts: Callable[..., None]) -> None:
    """The share of _Installation records on an SDK too old to change its server URL (iOS < 1.12,
    Android < 1.13.0, JS < 1.6.14, .NET < 1.7.0) is at most the threshold [5%]."""
    mix = session.data.sdk_mix()
    if not mix.total:
        pytest.skip("not applicable: no _Installation records (no app installation has registered)")
    limit = target.thresholds.old_sdk_share
    for sdk in mix.sdks():
        report_table(f"{sdk} SDK installations (minimum {minimum_label(sdk)})",
                     ["parseVersion", "deviceType", "installations", "share of SDK", "too old"],
                     sdk_table(mix, sdk))
    per_sdk = {sdk: sum(g.count for g in mix.of(sdk) if g.old) for sdk in mix.sdks()}
    record_facts(installations=mix.total, old=mix.old, old_share=round(mix.old_share, 4), threshold=limit,
                 old_per_sdk=per_sdk)
    worst = ", ".join(f"{sdk} {n}" for sdk, n in per_sdk.items() if n)
    assert mix.old_share <= limit, (f"_Installation: {mix.old} of {mix.total} installations ({mix.old_share:.1%}) "
                                    f"run an SDK too old to change its server URL ({worst}); expected <= {limit:.0%}")
