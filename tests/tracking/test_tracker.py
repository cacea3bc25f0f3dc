"""Anonymous tracks: linked by box and motion only."""

from app.tracking.tracker import TrackerConfig, live_tracks, update

CFG = TrackerConfig(ttl_s=3.0)


def run(frames, state=None):
    """frames: list of (ts, boxes); returns (state, ids per frame)."""
    out = []
    for ts, boxes in frames:
        state, ids = update(state, boxes, ts, CFG)
        out.append(ids)
    return state, out


def test_two_faces_side_by_side_keep_distinct_ids():
    _, ids = run([(t * 0.2, [(10, 10, 80, 80), (200, 10, 80, 80)]) for t in range(10)])
    assert len(set(ids[0])) == 2
    assert all(i == ids[0] for i in ids)


def test_crossing_faces_keep_their_ids():
    # A moves right, B moves left, slightly offset vertically; they overlap mid-way.
    frames = [(t * 0.1, [(0 + 20 * t, 0, 80, 80), (400 - 20 * t, 10, 80, 80)]) for t in range(21)]
    _, ids = run(frames)
    a, b = ids[0]
    assert all(i == [a, b] for i in ids), ids


def test_gap_within_ttl_keeps_id_and_return_after_ttl_gets_new_id():
    state, ids = run([(0.0, [(50, 50, 80, 80)]), (0.5, [(52, 50, 80, 80)])])
    state, gap = run([(2.5, [(52, 50, 80, 80)])], state)  # unseen 2 s < ttl
    assert gap[0] == ids[0]
    state, later = run([(6.0, [])], state)
    assert live_tracks(state, 6.0, CFG) == []
    state, back = run([(6.2, [(52, 50, 80, 80)])], state)
    assert back[0] != ids[0]


def test_ids_are_random_not_reused_and_unlinkable():
    seen = set()
    for _ in range(50):
        _, ids = run([(0.0, [(0, 0, 50, 50), (100, 0, 50, 50)])])
        seen.update(ids[0])
    assert len(seen) == 100
    assert all(len(i) == 16 and int(i, 16) >= 0 for i in seen)


def test_out_of_order_frame_gets_the_same_id_and_does_not_move_the_track():
    state, ids = run([(0.0, [(0, 0, 80, 80)]), (0.2, [(10, 0, 80, 80)]), (0.4, [(20, 0, 80, 80)])])
    before = [dict(t) for t in state["tracks"]]
    state, late = run([(0.3, [(15, 0, 80, 80)])], state)
    assert late[0] == ids[0]
    assert state["tracks"][0]["box"] == before[0]["box"] and state["tracks"][0]["t"] == 0.4


def test_state_holds_numbers_and_ids_only():
    state, _ = run([(0.0, [(0, 0, 80, 80)])])
    import json

    assert set(state["tracks"][0]) == {"id", "box", "v", "t", "first", "n"}
    assert len(json.dumps(state)) < 300
