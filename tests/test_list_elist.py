"""LIST with Modern IRC's ELIST filters."""

from __future__ import annotations

from tests.chatcore_harness import CoreDriver, only
from tests.nolimits import unlimited


def test_list_filters_follow_elist() -> None:
    """Modern IRC's ELIST (here `ELIST=CMNTU`): LIST takes masks (M), negated
    masks (N), member counts (U: `>n`, `<n`), and minutes since creation (C)
    and since the topic was set (T)."""
    drv = CoreDriver(unlimited())
    alice = drv.register("alice", "#dev", "#devops", "#random")
    drv.register("bob", "#devops")
    drv.send(alice, "TOPIC #random :anything")
    drv.clock.advance(600)  # ten minutes on
    drv.send(alice, "JOIN #new")

    def listed(line: str) -> list[str]:
        return sorted(m.params[1] for m in drv.send(alice, line) if m.command == "322")

    assert listed("LIST *dev*") == ["#dev", "#devops"]
    assert listed("LIST !*dev*") == ["#lobby", "#new", "#random"]
    assert listed("LIST >1") == ["#devops", "#lobby"]
    assert listed("LIST <2,*dev*") == ["#dev"]
    assert listed("LIST C>5") == ["#dev", "#devops", "#lobby", "#random"]
    assert listed("LIST C<5") == ["#new"]
    assert listed("LIST T>5") == ["#random"]
    assert listed("LIST T<5") == []
    assert listed("LIST #new,#dev") == ["#dev", "#new"]
    conn = drv.open()
    drv.send(conn, "NICK x")
    burst = drv.send(conn, "USER x 0 * :x")
    assert "ELIST=CMNTU" in [p for m in burst if m.command == "005" for p in m.params]
    assert only(drv.send(alice, "LIST"), "323").params[-1] == "End of /LIST"
