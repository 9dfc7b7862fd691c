"""beam_ml.sources.reading: every file of a glob read in order, with the first file's options."""

from __future__ import annotations

import pandas as pd
from beam_ml import sources
from beam_ml.sources import reading


def test_every_file_is_read_with_the_delimiter_detected_in_the_first(tmp_path):
    (tmp_path / "a.csv").write_text("x;y\n1;2\n")
    (tmp_path / "b.csv").write_text("x;y\n3;4,5\n")  # alone, b would look comma-separated
    frame = pd.concat(sources.iter_batches(str(tmp_path / "*.csv")))
    assert frame.columns.tolist() == ["x", "y"]
    assert frame.x.tolist() == [1, 3]


def test_a_dataframe_is_read_in_batches_that_name_it(penguins):
    batches = list(sources.iter_batches(sources.Source(frame=penguins, batch_rows=100)))
    assert [len(b) for b in batches] == [100, 100, 100, 44]
    assert {b.attrs["file"] for b in batches} == {"<dataframe>"}


def test_bad_lines_reach_the_caller_on_its_thread_before_the_batch_after_them(tmp_path):
    import threading

    lines = ["a,b"] + [f"{i},{i}" for i in range(30)]
    lines[12] = "1,2,3"  # line 13: one field too many
    path = tmp_path / "ragged.csv"
    path.write_text("\n".join(lines) + "\n")
    events: list[tuple[str, object]] = []

    def on_bad(record: sources.BadRecord) -> None:
        events.append(("bad", record.line))
        assert threading.current_thread() is threading.main_thread()

    src = sources.Source(str(path), batch_rows=10)
    for batch in sources.iter_file_batches(src, str(path), on_bad):
        events.append(("batch", batch.index[0]))
    # the order the reader met them in, read on this thread
    expected: list[tuple[str, object]] = []
    reader = reading._csv_batches(src, str(path), lambda r: expected.append(("bad", r.line)))
    expected += [("batch", batch.index[0]) for batch in reader]
    assert events == expected
    assert ("bad", 13) in events and len(events) == 4


def test_a_caller_that_stops_early_leaves_no_reading_thread(tmp_path):
    import threading
    import time

    path = tmp_path / "long.csv"
    path.write_text("a\n" + "".join(f"{i}\n" for i in range(1000)))
    batches = sources.iter_file_batches(sources.Source(str(path), batch_rows=10), str(path))
    assert next(batches).a.tolist() == list(range(10))
    batches.close()
    deadline = time.monotonic() + 5
    while any(t.name.startswith("read-ahead") for t in threading.enumerate()):
        assert time.monotonic() < deadline, "the read-ahead thread did not stop"
        time.sleep(0.01)


def test_a_reader_error_is_raised_to_the_caller_after_the_batches_before_it(tmp_path):
    import pytest
    from beam_ml.errors import BeamMLError

    path = tmp_path / "bad.jsonl"
    path.write_text('{"a": 1}\n{"a": 2}\n[3]\n')
    batches = sources.iter_file_batches(sources.Source(str(path), batch_rows=2), str(path))
    assert next(batches).a.tolist() == [1, 2]
    with pytest.raises(BeamMLError, match="line 3"):
        next(batches)


def test_a_source_without_read_ahead_reads_on_the_callers_thread_only(tmp_path, penguins):
    import threading
    from dataclasses import replace

    path = tmp_path / "p.csv"
    penguins.to_csv(path, index=False)
    src = sources.Source(str(path), batch_rows=50)

    def threads_while_reading(source: sources.Source) -> set[str]:
        names: set[str] = set()
        for _batch in sources.iter_batches(source):
            names |= {t.name for t in threading.enumerate()}
        return {n for n in names if n.startswith("read-ahead")}

    assert threads_while_reading(src)  # the default: the next batch is parsed meanwhile
    assert threads_while_reading(replace(src, read_ahead=False)) == set()
    assert pd.concat(sources.iter_batches(replace(src, read_ahead=False))).equals(
        pd.concat(sources.iter_batches(src))
    )
