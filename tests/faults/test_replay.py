"""The same final POST replayed 10 times at once through gunicorn makes one submission."""

import threading
from collections import Counter

import pytest
import requests

from tests.faults import ledger
from tests.faults.client import Client
from tests.support import wait_until

REPLAYS = 10


@pytest.mark.timeout(180)
def test_ten_concurrent_replays_of_the_submission_make_one(fleet):
    web = fleet.web(workers=4)
    applicant = Client(web.url)
    check = applicant.fill()
    fields = applicant.check_page(check)  # same cookie, same CSRF token, same draft, same token

    barrier = threading.Barrier(REPLAYS)
    answers: list[tuple[int, str] | str] = [""] * REPLAYS
    visitors = []
    for _ in range(REPLAYS):
        copy = Client(web.url)
        copy.http.cookies.update(applicant.http.cookies)
        visitors.append(copy)

    def replay(number: int) -> None:
        barrier.wait(timeout=30)
        try:
            answer = visitors[number].send(check, fields)
            answers[number] = (answer.status, answer.location)
        except requests.RequestException as exc:
            answers[number] = type(exc).__name__

    threads = [threading.Thread(target=replay, args=(n,)) for n in range(REPLAYS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=90)

    acknowledgement = (302, "/demarches/aide-entreprises-covid/merci")
    assert all(answer == acknowledgement for answer in answers), answers
    references = [visitor.reference() for visitor in visitors]
    fleet.worker()
    wait_until(lambda: ledger.all_processed(fleet.app, references), timeout=90, interval=0.5)
    found = ledger.read(fleet.app)
    ledger.report(
        "replay",
        REPLAYS,
        sorted(set(references)),
        found,
        answers=dict(Counter(map(str, answers))),
    )
    assert len(set(references)) == 1, references
    assert len(found.stored) == 1, found.stored
    ledger.assert_exactly_once(references[:1], found)
