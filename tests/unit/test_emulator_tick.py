"""The emulator's lifecycle tick: linear in running phases, chains completed in one tick."""

from __future__ import annotations

from pixop_async.emulator import lifecycle
from pixop_async.emulator.state import EmulatorState


def test_ten_thousand_phases_progress_and_complete_with_chains() -> None:
    state = EmulatorState()
    w = lifecycle.world(state)
    progressed: list[int] = []
    done: list[int] = []

    def start(i: int, chained: bool) -> None:
        def on_done() -> None:
            done.append(i)
            if chained:  # a completion starting the next phase, as ingestion → free clip
                start(i + 100_000, False)

        w.start_phase(f"v{i}", "test", 1000.0, lambda p, _e: progressed.append(p), on_done)

    for i in range(10_000):
        start(i, chained=i % 2 == 0)
    state.clock.advance(500.0)  # the clock also runs in real time: long phases
    lifecycle.tick(state)
    assert len(progressed) == 10_000 and set(progressed) == {50}
    assert not done
    # a jump past both phases of each chain completes the chain within one tick
    state.clock.advance(10_000.0)
    lifecycle.tick(state)
    assert len(done) == 15_000
    assert not w.phases


def test_cancel_video_drops_only_its_phases() -> None:
    state = EmulatorState()
    w = lifecycle.world(state)
    for i in range(3):
        w.start_phase(f"v{i}", "test", 10.0, lambda _p, _e: None, lambda: None)
    w.cancel_video("v1")
    assert sorted(p.video_id for p in w.phases.values()) == ["v0", "v2"]
