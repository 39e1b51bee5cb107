"""The engine's cheap 'first of several events' wakes a process at the same place in SimPy's
queue as ``any_of`` does, so replacing one by the other changes no run."""

import simpy

from sim.engine.simulation import _first_of


def _trace(wait) -> list[tuple[float, str]]:
    env = simpy.Environment()
    seen: list[tuple[float, str]] = []
    signal = {"event": env.event()}

    def waiter(name: str, delay: float):
        for _ in range(3):
            yield wait(env, [signal["event"], env.timeout(delay)])
            seen.append((env.now, name))

    def notifier():
        for t in (2, 5, 5):
            yield env.timeout(t - env.now)
            seen.append((env.now, "notify"))
            signal["event"].succeed()
            signal["event"] = env.event()

    def ticker():
        for _ in range(8):
            yield env.timeout(1)
            seen.append((env.now, "tick"))

    env.process(waiter("a", 3))
    env.process(notifier())
    env.process(ticker())
    env.process(waiter("b", 1))
    env.run(until=10)
    return seen


def test_first_of_wakes_in_the_same_order_as_any_of():
    expected = _trace(lambda env, events: env.any_of(events))
    assert _trace(_first_of) == expected
    assert len(expected) > 10  # waiters woken by timeouts and by the signal, ticks between


def test_first_of_an_event_processed_already_wakes_at_once():
    env = simpy.Environment()
    done = env.event()
    done.succeed()
    env.run()  # processes it
    later = env.timeout(5)
    wake = _first_of(env, [done, later])
    env.run(until=1)
    assert wake.processed and not later.processed  # woken at once, not by the timeout
