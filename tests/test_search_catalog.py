"""dotwise.search.Catalog (the song recommender) and the search CLI."""

from __future__ import annotations

import csv
import sys
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from dotwise import DataFormatError, ShapeError
from dotwise.cli import get_app
from dotwise.search import Catalog, Index, UnknownIdError
from dotwise.search.data import example_catalog_path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from conftest import shared_data_path

FEATURES = ["danceability", "energy", "tempo"]
SONGS = [
    # track, artist, danceability, energy, tempo
    ("Slow Tide", "Ann", 0.20, 0.10, 70.0),
    ("Quiet Harbor", "Ben", 0.25, 0.15, 72.0),
    ("Night Drive", "Cy", 0.80, 0.85, 124.0),
    ("Night Drive", "Dee", 0.30, 0.20, 75.0),      # same title, other artist
    ("Club Lights", "Eve", 0.85, 0.90, 126.0),
    ("Stadium", "Fay", 0.60, 0.95, 150.0),
    ("Blinding Lights", "The Weeknd", 0.51, 0.73, 171.0),
]


@pytest.fixture
def songs_csv(tmp_path):
    path = tmp_path / "songs.csv"
    with open(path, "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["track", "artist", *FEATURES, "label"])
        for row in SONGS:
            w.writerow([*row, "x"])
    return path


def test_catalog_z_scores_and_matches_brute_force(songs_csv):
    cat = Catalog.from_csv(songs_csv, key="track", features=FEATURES)
    assert len(cat) == 7 and cat.feature_names == FEATURES
    assert set(cat.metadata) == {"artist", "label"}
    X = np.array([r[2:] for r in SONGS])
    Z = (X - X.mean(0)) / X.std(0)
    np.testing.assert_allclose(cat.transform(X), Z)
    np.testing.assert_allclose(cat.transform(X).mean(0), 0, atol=1e-12)
    recs = cat.similar("club lights", k=3)
    Zn = Z / np.linalg.norm(Z, axis=1, keepdims=True)
    cos = Zn @ Zn[4]
    order = [i for i in np.argsort(-cos) if i != 4][:3]
    assert [m.row for m in recs] == order
    np.testing.assert_allclose([m.score for m in recs], cos[order])
    assert recs[0].name == "Night Drive" and recs[0].metadata["artist"] == "Cy"
    # drivers: the per-feature terms of the cosine, largest first
    e = cat.index.explain(Z[4], order[0])
    assert [d[0] for d in recs[0].drivers] == [FEATURES[i] for i in e.dims]
    assert recs[0].drivers[0][2] == "high"
    assert "energy" in recs[0].drivers_text()


def test_similar_leaves_out_the_item_and_its_namesakes(songs_csv):
    cat = Catalog.from_csv(songs_csv, features=FEATURES)
    recs = cat.similar("Night Drive", k=10)
    assert "Night Drive" not in recs.names and len(recs) == 5
    assert "2 items are named 'Night Drive'" in recs.note
    dee = cat.similar("night drive", k=1, where={"artist": "dee"})
    assert dee[0].name == "Quiet Harbor"
    with pytest.raises(ValueError, match="where names an unknown column 'genre'"):
        cat.similar("Night Drive", where={"genre": "pop"})


def test_unknown_names_get_suggestions(songs_csv):
    cat = Catalog.from_csv(songs_csv, features=FEATURES)
    with pytest.raises(UnknownIdError, match="no item named 'Blindin Lights'.*did you mean: "
                                             "'Blinding Lights'") as info:
        cat.similar("Blindin Lights")
    assert info.value.suggestions[0] == "Blinding Lights"
    with pytest.raises(KeyError, match="did you mean: 'Club Lights'"):
        cat.similar("club")
    with pytest.raises(TypeError, match="name must be a string"):
        cat.similar(3)


def test_taste_profile_and_weights(songs_csv):
    cat = Catalog.from_csv(songs_csv, features=FEATURES)
    prof = cat.profile(["Club Lights", "Stadium"])
    np.testing.assert_allclose(prof, np.mean([SONGS[4][2:], SONGS[5][2:]], axis=0))
    recs = cat.similar_to_vector(prof, k=2, exclude=["Club Lights", "Stadium"])
    assert recs.names[0] == "Night Drive" and recs.query == "taste profile"
    with pytest.raises(ShapeError, match="vector must have 3 values"):
        cat.similar_to_vector([1.0, 2.0])
    only_tempo = Catalog.from_csv(songs_csv, features=FEATURES,
                                  weights={"danceability": 0, "energy": 0}, metric="l2")
    r = only_tempo.similar("Stadium", k=1)
    assert r[0].name == "Blinding Lights"  # the nearest tempo
    with pytest.raises(ValueError, match="unknown feature.*bpm"):
        Catalog.from_csv(songs_csv, features=FEATURES, weights={"bpm": 2})
    with pytest.raises(ValueError, match="weights must be >= 0"):
        Catalog.from_csv(songs_csv, features=FEATURES, weights=[0, 0, 0])


def test_csv_errors_name_what_is_there(tmp_path, songs_csv):
    with pytest.raises(DataFormatError, match="no feature column 'bpm'; its columns are: "
                                              "track, artist, danceability"):
        Catalog.from_csv(songs_csv, features=["bpm"])
    with pytest.raises(DataFormatError, match="no key column 'title'"):
        Catalog.from_csv(songs_csv, key="title")
    bad = tmp_path / "bad.csv"
    bad.write_text("track,energy\na,0.5\nb,loud\nc,0.7\n")
    with pytest.raises(DataFormatError, match="line 3, column 'energy': 'loud' is not a number"):
        Catalog.from_csv(bad, features=["energy"])
    cat = Catalog.from_csv(bad, features=["energy"], missing="drop")
    assert cat.names == ["a", "c"]
    ragged = tmp_path / "ragged.csv"
    ragged.write_text("track,energy\na,0.5,9\n")
    with pytest.raises(DataFormatError, match="line 2: 3 fields, expected 2"):
        Catalog.from_csv(ragged)
    empty = tmp_path / "empty.csv"
    empty.write_text("")
    with pytest.raises(DataFormatError, match="is empty"):
        Catalog.from_csv(empty)
    with pytest.raises(FileNotFoundError):
        Catalog.from_csv(tmp_path / "missing.csv")
    default = Catalog.from_csv(songs_csv)  # every numeric column
    assert default.feature_names == FEATURES


def test_example_catalog_is_bundled_and_clusters_by_genre():
    assert example_catalog_path().exists()
    cat = Catalog.example()
    assert len(cat) == 60
    for name in ("Blinding Neon", cat.names[10], cat.names[33]):
        recs = cat.similar(name, k=5)
        genre = cat.metadata["genre"][cat.rows_of(name)[0]]
        assert sum(m.metadata["genre"] == genre for m in recs) >= 4


def test_real_spotify_table():
    path = shared_data_path("songs", "spotify_hit_predictor_1960-2019.csv")
    feats = ["danceability", "energy", "valence", "acousticness", "instrumentalness",
             "speechiness", "tempo", "loudness"]
    cat = Catalog.from_csv(path, key="track", features=feats)
    assert len(cat) == 41106
    recs = cat.similar("Blinding Lights", k=10)
    assert len(recs) == 10 and "Blinding Lights" not in recs.names
    assert all(-1 <= m.score <= 1 for m in recs)
    assert np.all(np.diff([m.score for m in recs]) <= 1e-12)
    with pytest.raises(UnknownIdError, match="Blinding Lights"):
        cat.similar("blindin lights")


# ---------------------------------------------------------------- CLI
def flat(res) -> str:
    """The command's output with Rich's line wrapping undone."""
    return " ".join(res.output.split())


def test_cli_similar(songs_csv):
    runner = CliRunner()
    res = runner.invoke(get_app(), ["similar", str(songs_csv), "Club Lights", "--features",
                                    ",".join(FEATURES), "-k", "3"])
    assert res.exit_code == 0, res.output
    assert "Night Drive" in flat(res) and "artist" in flat(res) and "why" in flat(res)
    res = runner.invoke(get_app(), ["similar", str(songs_csv), "Blindin Lights"])
    assert res.exit_code == 2 and "did you mean" in flat(res)
    res = runner.invoke(get_app(), ["similar", str(songs_csv), "Stadium", "--features", "bpm"])
    assert res.exit_code == 2 and "its columns are" in flat(res)
    res = runner.invoke(get_app(), ["similar", str(songs_csv), "Night Drive", "--where",
                                    "artist=Dee", "-k", "1"])
    assert res.exit_code == 0 and "Quiet Harbor" in flat(res)


def test_cli_index_build_query_info(tmp_path, rng):
    X = rng.standard_normal((500, 8)).astype(np.float32)
    np.save(tmp_path / "v.npy", X)
    np.savetxt(tmp_path / "q.csv", X[:3], delimiter=",")
    runner = CliRunner()
    res = runner.invoke(get_app(), ["index", "build", str(tmp_path / "v.npy"), "-o",
                                    str(tmp_path / "idx"), "--metric", "l2"])
    assert res.exit_code == 0, res.output
    assert len(Index.load(tmp_path / "idx")) == 500
    res = runner.invoke(get_app(), ["index", "query", str(tmp_path / "idx"),
                                    str(tmp_path / "q.csv"), "-k", "2", "--out",
                                    str(tmp_path / "hits.csv")])
    assert res.exit_code == 0, res.output
    rows = list(csv.DictReader(open(tmp_path / "hits.csv")))
    assert len(rows) == 6 and rows[0]["id"] == "0" and float(rows[0]["score"]) < 1e-3
    res = runner.invoke(get_app(), ["index", "info", str(tmp_path / "idx"), "--verify"])
    assert res.exit_code == 0 and "500" in flat(res) and "verified" in flat(res)
    res = runner.invoke(get_app(), ["index", "build", str(tmp_path / "v.npy"), "-o",
                                    str(tmp_path / "ivf"), "--ivf", "8", "--n-probe", "8"])
    assert res.exit_code == 0, res.output
    res = runner.invoke(get_app(), ["index", "query", str(tmp_path / "ivf"),
                                    str(tmp_path / "q.csv"), "-k", "1", "--n-probe", "2"])
    assert res.exit_code == 0 and "cosine" in flat(res)
    res = runner.invoke(get_app(), ["index", "info", str(tmp_path)])
    assert res.exit_code == 2 and "not a dotwise index" in flat(res)
    res = runner.invoke(get_app(), ["index", "build", str(tmp_path / "v.npy"), "-o",
                                    str(tmp_path / "bad"), "--metric", "ip"])
    assert res.exit_code == 2 and "metric must be one of" in flat(res)
    res = runner.invoke(get_app(), ["index", "query", str(tmp_path / "idx"),
                                    str(tmp_path / "v.npy"), "-k", "0"])
    assert res.exit_code == 2 and "k must be a positive integer" in flat(res)
