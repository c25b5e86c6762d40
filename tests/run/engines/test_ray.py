"""bench.run.engines.ray_actors: the NTP-style clock offset (pure), and a run on a local Ray cluster started here,
against the
local server, that agrees with the same run in two client processes."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from bench.run.engines.processes import ClientPool
from bench.run.engines.ray_actors import ClockOffset, ClockProbe, estimate_offset
from bench.run.engines.shares import RunSpec

pytestmark = pytest.mark.e2e


def test_the_offset_comes_from_the_fastest_round_trip() -> None:
    probes = [ClockProbe(0, 900, 1000), ClockProbe(2000, 2150, 2100), ClockProbe(5000, 5000, 9000)]
    assert estimate_offset(probes) == ClockOffset(offset_ns=100, rtt_ns=100)


def test_an_actor_behind_the_driver_has_a_negative_offset() -> None:
    assert estimate_offset([ClockProbe(1_000_000, 400_010, 1_000_020)]) == ClockOffset(-600_000, 20)


def test_no_probes_is_an_error() -> None:
    with pytest.raises(ValueError, match="no clock probes"):
        estimate_offset([])


@pytest.fixture(scope="module")
def ray_pool() -> Iterator[object]:
    pytest.importorskip("ray")
    from bench.run.engines.ray_actors import RayPool

    with RayPool(2, num_cpus=2, include_dashboard=False, log_to_driver=False) as pool:
        yield pool


def test_a_run_on_a_local_ray_cluster_merges_every_task_and_agrees_with_processes(
    ray_pool: object, server_url: str
) -> None:
    from bench.run.engines.ray_actors import RayPool

    assert isinstance(ray_pool, RayPool)
    n = 400
    spec = RunSpec.local(server_url, n, 200.0)
    assert all(abs(o.offset_ns) <= o.rtt_ns for o in ray_pool.offsets)  # one host: the clocks agree within a trip
    ray_pool.run(spec)  # warm-up run
    on_ray = ray_pool.run(spec)
    assert on_ray.finished == n
    assert on_ray.offsets_ns == ray_pool.offsets_ns
    assert all(s >= 0 for s in on_ray.start_ns)
    with ClientPool(2) as pool:
        pool.run(spec)
        in_processes = pool.run(spec)
    assert in_processes.finished == n
    ratio = on_ray.wall_ns / in_processes.wall_ns
    assert 0.5 < ratio < 2.0, f"Ray {on_ray.wall_ns / 1e6:.0f} ms vs processes {in_processes.wall_ns / 1e6:.0f} ms"
