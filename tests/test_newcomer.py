"""What a new user hits first (issue 13): sensible defaults and the README's own examples."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from dotwise.cli import get_app
from dotwise.search import Catalog
from tests.conftest import SHARED_DATA

SONGS = SHARED_DATA / "songs" / "spotify_hit_predictor_1960-2019.csv"


def test_default_features_leave_out_ids_labels_and_categories(tmp_path):
    rows = ["track,track_id,danceability,tempo,key,mode,decade,target"]
    for i in range(30):
        rows.append(f"song {i},{1000 + i},{(i % 7) / 7:.3f},{90 + 3.5 * i},{i % 12},{i % 2},"
                    f"{1960 + 10 * (i % 6)},{i % 2}")
    path = tmp_path / "t.csv"
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    cat = Catalog.from_csv(path)
    assert cat.feature_names == ["danceability", "tempo"]
    assert set(cat.features_left_out) == {"track_id", "key", "mode", "decade", "target"}
    assert cat.features_left_out["target"] == "a label"
    assert cat.features_left_out["track_id"] == "an id"
    assert "categorical" in cat.features_left_out["decade"]
    # naming features explicitly still takes exactly those
    assert Catalog.from_csv(path, features="tempo,key").feature_names == ["tempo", "key"]


@pytest.mark.shared_data
@pytest.mark.skipif(not SONGS.exists(), reason=f"needs the song table at {SONGS}")
def test_readme_similar_example_runs_on_the_real_song_table(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "songs.csv").symlink_to(SONGS)
    result = CliRunner().invoke(get_app(), ["similar", "songs.csv", "Hello", "--where",
                                            "artist=Adele", "--show", "artist,decade"],
                                env={"COLUMNS": "160"})
    assert result.exit_code == 0, result.output
    assert "Adele" in result.output
    assert "left out: key" in result.output and "target (a label)" in result.output
