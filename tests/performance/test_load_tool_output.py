"""`make bench` reads the inbox throughput, p99 and response size from wrk's report, and
refuses a run in which any request failed."""

from __future__ import annotations

import pytest

from treatments.bench.run import parse_wrk

REPORT = """Running 20s test @ http://127.0.0.1:40123/alerts/
  2 threads and 8 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency    61.20ms   20.11ms 198.03ms   71.02%
    Req/Sec    65.93     14.20   101.00     70.00%
  Latency Distribution
     50%   58.31ms
     75%   70.88ms
     90%   88.40ms
     99%  {p99}
  2634 requests in 20.03s, 81.15MB read
{extra}Requests/sec:    131.52
Transfer/sec:      4.05MB
"""


@pytest.mark.parametrize(
    ("p99", "ms"), [("141.02ms", 141.02), ("1.20s", 1200.0), ("950.00us", 0.95)]
)
def test_reads_the_rate_and_the_99th_percentile_in_milliseconds(p99, ms):
    rate, p99_ms, average_bytes = parse_wrk(REPORT.format(p99=p99, extra=""))
    assert (rate, p99_ms) == (131.52, pytest.approx(ms))
    # 81.15 MB over 2634 requests: the size a redirect to sign-in would give away.
    assert average_bytes == pytest.approx(81.15 * 1024**2 / 2634)


def test_a_run_with_failed_or_redirected_requests_is_refused():
    with pytest.raises(RuntimeError, match="Non-2xx"):
        parse_wrk(REPORT.format(p99="141.02ms", extra="  Non-2xx or 3xx responses: 12\n"))
