"""Hypothesis strategies: random nested corpora as long frames."""

import pandas as pd
from hypothesis import strategies as st

CODES = ["a", "b", "c"]


@st.composite
def corpus_frames(draw, max_dyads=3, max_sessions=3, max_segments=8):
    """A long frame: dyads > sessions > segments, a categorical stream, an indicator, a rating."""
    rows = []
    n_dyads = draw(st.integers(1, max_dyads))
    for d in range(n_dyads):
        for s in range(draw(st.integers(1, max_sessions))):
            n = draw(st.integers(1, max_segments))
            numbers = sorted(
                draw(st.sets(st.integers(0, 3 * max_segments), min_size=n, max_size=n))
            )
            for t in numbers:
                rows.append(
                    {
                        "dyad": f"D{d}",
                        "session": f"D{d}-S{s}",
                        "segment": t,
                        "break": draw(st.sampled_from([0, 0, 0, 1])),
                        "code": draw(st.sampled_from([*CODES, None])),
                        "flag": draw(st.sampled_from([0, 1, None])),
                        "rating": draw(st.sampled_from([1.5, 2.25, 4.0, None])),
                    }
                )
    frame = pd.DataFrame(rows)
    # guarantee each column's kind can be inferred
    frame.loc[0, ["code", "flag", "rating"]] = ["a", 1, 1.5]
    frame["code"] = frame["code"].astype("string")
    frame["flag"] = frame["flag"].astype("Int64")
    frame["rating"] = frame["rating"].astype(float)
    return frame
