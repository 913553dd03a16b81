"""The documents-per-second cap: arithmetic on a fake clock, then measured on a real one."""
from __future__ import annotations

import threading
import time

from cutover.data.pace import UNCAPPED, Pace


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += max(0.0, seconds)


def test_no_cap_never_waits() -> None:
    clock = FakeClock()
    pace = Pace(0, clock, clock.sleep)
    assert not pace.capped and pace.spend(10**9) == 0.0 and clock.now == 100.0
    assert list(UNCAPPED.paced(range(5))) == [0, 1, 2, 3, 4]


def test_documents_are_paid_after_they_are_read() -> None:
    clock = FakeClock()
    pace = Pace(1000, clock, clock.sleep)
    assert pace.spend(500) == 0.5          # the first batch is paid for too
    clock.now += 0.1                       # reading the next 500 took 0.1 s
    assert abs(pace.spend(500) - 0.5) < 1e-9
    assert clock.now == 101.1              # 1000 documents, 1.1 s: under the cap


def test_idle_time_is_not_saved_up_as_a_burst() -> None:
    clock = FakeClock()
    pace = Pace(100, clock, clock.sleep)
    pace.spend(100)
    clock.now += 3600
    assert pace.spend(100) == 1.0


def test_paced_pays_every_tenth_of_a_second_of_documents() -> None:
    clock = FakeClock()
    pace = Pace(200, clock, clock.sleep)
    assert list(pace.paced(range(45))) == list(range(45))
    assert abs(clock.now - 100.0 - 45 / 200) < 1e-9     # 20 + 20 + 5 documents paid


def test_a_real_scan_stays_under_the_cap_and_the_cap_does_slow_it() -> None:
    cap, n = 2000, 1500
    started = time.monotonic()
    assert sum(1 for _ in Pace(cap).paced(range(n))) == n
    elapsed = time.monotonic() - started
    assert n / elapsed <= cap, f"{n / elapsed:.0f} documents/s read, cap {cap}"
    assert elapsed >= n / cap


def test_two_threads_share_one_cap() -> None:
    pace, cap, n = Pace(4000), 4000, 1000
    started = time.monotonic()
    threads = [threading.Thread(target=lambda: sum(1 for _ in pace.paced(range(n)))) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.monotonic() - started
    assert 2 * n / elapsed <= cap, f"{2 * n / elapsed:.0f} documents/s in two threads, cap {cap}"
