"""Tests for embedder.ratings.readers: every input layout, header and separator detection, bad input.

Core tests write tiny files into ``tmp_path``; the last few read the real
MovieLens copies under /work/shared/data and skip when those are absent.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from embedder.errors import ConfigError, DataError
from embedder.ratings.readers import ReadSpec, read_dataset

SHARED = Path(__file__).resolve().parents[2].parent / "shared" / "data"  # beside the repository


def write(folder: Path, name: str, content: str | bytes, encoding: str = "utf-8") -> Path:
    """Write one file (text in ``encoding``, or raw bytes) and return its path."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_bytes(content if isinstance(content, bytes) else content.encode(encoding))
    return path


def assert_aligned(dataset) -> None:
    """The invariants every Dataset must keep."""
    inter = dataset.interactions
    assert np.array_equal(dataset.movies.ids, inter.item_ids)
    assert len(dataset.movies.titles) == len(dataset.movies.years) == len(dataset.movies.genres) == len(inter.item_ids)
    assert inter.user.dtype == np.int32 and inter.item.dtype == np.int32
    assert inter.user_ids.dtype == object and inter.item_ids.dtype == object
    assert all(isinstance(value, str) for value in inter.item_ids)
    assert inter.user.max() < len(inter.user_ids) and inter.item.max() < len(inter.item_ids)


def first_appearance(values: list[str]) -> list[str]:
    return list(dict.fromkeys(values))


def movies_by_id(dataset) -> dict:
    movies = dataset.movies
    return {movie_id: (movies.titles[i], int(movies.years[i]), movies.genres[i])
            for i, movie_id in enumerate(movies.ids)}


# --- ml-latest -----------------------------------------------------------------

ML_LATEST_MOVIES = (
    "movieId,title,genres\n"
    "1,Toy Story (1995),Adventure|Animation|Children|Comedy|Fantasy\n"
    '11,"American President, The (1995)",Comedy|Drama|Romance\n'
    '20,"Dr. ""Strangelove"" <script>&amp; (1964) ",Comedy|War\n'
    "30,Babylon 5,Sci-Fi\n"
    "40,Mad Men (2007-2015),(no genres listed)\n"
    '50,"Line\tone\nline two (2001)",Drama\n'
    "60,Not rated (1999),Drama\n"
)


@pytest.fixture
def ml_latest(tmp_path: Path) -> Path:
    folder = tmp_path / "ml-latest-small"
    write(folder, "ratings.csv", "userId,movieId,rating,timestamp\n"
          "1,1,4.0,964982703\n1,11,4.5,964981247\n2,20,0.5,964982224\n"
          "2,1,3.0,964983815\n3,30,5.0,964982931\n3,40,2.5,964982400\n3,50,1.0,964980868\n"
          "999,999999,5.0,1493846415\n")
    write(folder, "movies.csv", ML_LATEST_MOVIES)
    write(folder, "links.csv", "movieId,imdbId,tmdbId\n1,0114709,862\n11,0112346,9087\n30,0105946,\n")
    write(folder, "tags.csv", "userId,movieId,tag,timestamp\n2,1,funny,1445714994\n")
    return folder


def test_ml_latest_folder(ml_latest: Path):
    dataset = read_dataset(ml_latest)
    inter = dataset.interactions
    assert_aligned(dataset)
    assert dataset.name == "ml-latest-small"
    assert dataset.source == str(ml_latest / "ratings.csv")
    assert len(inter) == 8
    assert list(inter.user_ids) == ["1", "2", "3", "999"]
    assert list(inter.item_ids) == ["1", "11", "20", "30", "40", "50", "999999"]
    assert list(inter.user) == [0, 0, 1, 1, 2, 2, 2, 3]
    assert inter.rating.dtype == np.float32 and inter.rating[2] == 0.5
    assert inter.timestamp.dtype == np.int64 and inter.timestamp[0] == 964982703
    assert dataset.users is None


def test_ml_latest_titles_years_genres(ml_latest: Path):
    movies = movies_by_id(read_dataset(ml_latest))
    assert movies["1"] == ("Toy Story (1995)", 1995, ("Adventure", "Animation", "Children", "Comedy", "Fantasy"))
    assert movies["11"] == ("American President, The (1995)", 1995, ("Comedy", "Drama", "Romance"))
    # Read faithfully: quotes, markup and entities are for later stages to escape.
    assert movies["20"] == ('Dr. "Strangelove" <script>&amp; (1964)', 1964, ("Comedy", "War"))
    assert movies["30"] == ("Babylon 5", 0, ("Sci-Fi",))
    assert movies["40"] == ("Mad Men (2007-2015)", 2007, ())
    assert movies["50"] == ("Line\tone\nline two (2001)", 2001, ("Drama",))
    assert movies["999999"] == ("movie 999999", 0, ())


def test_ml_latest_links_keep_leading_zeros(ml_latest: Path):
    dataset = read_dataset(ml_latest)
    links = dataset.movies.links
    position = {movie_id: i for i, movie_id in enumerate(dataset.movies.ids)}
    assert links["imdb"][position["1"]] == "0114709"
    assert links["tmdb"][position["1"]] == "862"
    assert links["tmdb"][position["30"]] == ""
    assert links["imdb"][position["20"]] == ""


def test_placeholder_note(ml_latest: Path):
    notes = read_dataset(ml_latest).notes
    assert notes == ('movies.csv: 1 rated item not listed, titled "movie <id>" (first: 999999)',)


def test_ratings_file_inside_known_folder_finds_siblings(ml_latest: Path):
    dataset = read_dataset(ml_latest / "ratings.csv", name="mine")
    assert dataset.name == "mine"
    assert dataset.source == str(ml_latest / "ratings.csv")
    assert movies_by_id(dataset)["11"][0] == "American President, The (1995)"


def test_nested_dataset_folder(ml_latest: Path):
    dataset = read_dataset(ml_latest.parent)
    assert dataset.name == "ml-latest-small"


# --- ml-1m / ml-10m ------------------------------------------------------------


def ml1m_folder(root: Path) -> Path:
    folder = root / "ml-1m"
    write(folder, "ratings.dat", "1::1193::5::978300760\n1::661::3::978302109\n2::1193::4::978298413\n"
          "3::2000::4::978298000\n")
    write(folder, "movies.dat", "1193::One Flew Over the Cuckoo's Nest (1975)::Drama\n"
          "661::James and the Giant Peach (1996)::Animation|Children's|Musical\n"
          "2000::Ch\u00e2teau, Le (1999)::Comedy\n", encoding="latin-1")
    write(folder, "users.dat", "1::F::1::10::48067\n2::M::56::16::70072\n3::M::25::99::55117\n")
    return folder


def test_ml1m_folder(tmp_path: Path):
    dataset = read_dataset(ml1m_folder(tmp_path))
    assert_aligned(dataset)
    assert dataset.name == "ml-1m"
    assert len(dataset.interactions) == 4
    assert list(dataset.interactions.item_ids) == ["1193", "661", "2000"]
    movies = movies_by_id(dataset)
    assert movies["2000"] == ("Ch\u00e2teau, Le (1999)", 1999, ("Comedy",))
    assert movies["661"][2] == ("Animation", "Children's", "Musical")
    assert dataset.notes == ()


def test_ml1m_users(tmp_path: Path):
    users = read_dataset(ml1m_folder(tmp_path)).users
    assert list(users.ids) == ["1", "2", "3"]
    assert list(users.attributes["gender"]) == ["F", "M", "M"]
    assert list(users.attributes["age"]) == ["Under 18", "56+", "25-34"]
    # 99 is not an ml-1m occupation code: kept as written rather than guessed.
    assert list(users.attributes["occupation"]) == ["K-12 student", "self-employed", "99"]


def test_ml10m_movies_fall_back_to_latin1(tmp_path: Path):
    folder = tmp_path / "ml-10M100K"
    write(folder, "ratings.dat", "1::122::5::838985046\n1::185::5::838983525\n")
    write(folder, "movies.dat", "122::Boomerang (1992)::Comedy|Romance\n185::Caf\u00e9 (1995)::Drama\n",
          encoding="latin-1")
    dataset = read_dataset(folder)
    assert dataset.name == "ml-10m"
    assert movies_by_id(dataset)["185"][0] == "Caf\u00e9 (1995)"
    assert dataset.users is None and dataset.notes == ()


def test_ml10m_movies_utf8(tmp_path: Path):
    folder = tmp_path / "ml-10M100K"
    write(folder, "ratings.dat", "1::185::5::838983525\n")
    write(folder, "movies.dat", "185::Caf\u00e9 (1995)::Drama\n")
    assert movies_by_id(read_dataset(folder))["185"][0] == "Caf\u00e9 (1995)"


# --- ml-100k -------------------------------------------------------------------


def u_item_row(movie_id: int, title: str, genres: set[int]) -> str:
    flags = "|".join("1" if i in genres else "0" for i in range(19))
    return f"{movie_id}|{title}|01-Jan-1995||http://us.imdb.com/M/title-exact?x|{flags}\n"


def ml100k_folder(root: Path, with_genre_file: bool = True) -> Path:
    folder = root / "ml-100k"
    write(folder, "u.data", "196\t242\t3\t881250949\n186\t302\t3\t891717742\n196\t267\t1\t878887116\n")
    write(folder, "u.item", u_item_row(242, "Kolya (1996)", {5}) + u_item_row(302, "L\u00e9on (1994)", {1, 6})
          + "267|unknown||||1|0|0|0|0|0|0|0|0|0|0|0|0|0|0|0|0|0|0\n", encoding="latin-1")
    if with_genre_file:
        names = ["unknown", "Action", "Adventure", "Animation", "Children's", "Comedy", "Crime", "Documentary",
                 "Drama", "Fantasy", "Film-Noir", "Horror", "Musical", "Mystery", "Romance", "Sci-Fi",
                 "Thriller", "War", "Western"]
        write(folder, "u.genre", "".join(f"{name.upper() if i == 1 else name}|{i}\n"
                                         for i, name in enumerate(names)) + "\n")
    write(folder, "u.user", "196|49|M|writer|55105\n186|39|F|executive|00000\n")
    return folder


def test_ml100k_folder(tmp_path: Path):
    dataset = read_dataset(ml100k_folder(tmp_path))
    assert_aligned(dataset)
    assert dataset.name == "ml-100k"
    assert dataset.source == str(tmp_path / "ml-100k" / "u.data")
    movies = movies_by_id(dataset)
    assert movies["242"] == ("Kolya (1996)", 1996, ("Comedy",))
    # Genre names come from u.genre (upper-cased here to prove it is read).
    assert movies["302"] == ("L\u00e9on (1994)", 1994, ("ACTION", "Crime"))
    assert movies["267"] == ("unknown", 0, ())  # the "unknown" flag means no genre


def test_ml100k_without_genre_file(tmp_path: Path):
    movies = movies_by_id(read_dataset(ml100k_folder(tmp_path, with_genre_file=False)))
    assert movies["302"][2] == ("Action", "Crime")


def test_users_missing_from_users_file(tmp_path: Path):
    folder = ml100k_folder(tmp_path)
    write(folder, "u.user", "196|49|M|writer|55105\n")
    dataset = read_dataset(folder)
    assert list(dataset.users.attributes["occupation"]) == ["writer", ""]
    assert "u.user: 1 rated user not listed, attributes left empty" in dataset.notes


def test_ml100k_users(tmp_path: Path):
    dataset = read_dataset(ml100k_folder(tmp_path))
    users = dataset.users
    assert list(users.ids) == list(dataset.interactions.user_ids) == ["196", "186"]
    assert list(users.attributes["age"]) == ["49", "39"]
    assert list(users.attributes["gender"]) == ["M", "F"]
    assert list(users.attributes["occupation"]) == ["writer", "executive"]
    assert set(users.attributes) == {"age", "gender", "occupation"}


# --- generic logs --------------------------------------------------------------


def test_generic_with_header_aliases(tmp_path: Path):
    log = write(tmp_path, "log.csv", "item_id,user_id,score\nA,u1,3\nB,u2,4\n")
    dataset = read_dataset(log)
    assert_aligned(dataset)
    assert dataset.name == "log"
    assert list(dataset.interactions.user_ids) == ["u1", "u2"]
    assert list(dataset.interactions.item_ids) == ["A", "B"]
    assert dataset.interactions.timestamp is None
    assert list(dataset.movies.titles) == ["movie A", "movie B"]
    assert dataset.notes == ('no movies file: 2 rated items titled "movie <id>"',)


def test_generic_without_header_by_column_count(tmp_path: Path):
    log = write(tmp_path, "log.tsv", "10\t20\t4.5\t100\n11\t20\t3\t101\n")
    inter = read_dataset(log).interactions
    assert list(inter.user_ids) == ["10", "11"] and len(inter) == 2
    assert list(inter.rating) == [4.5, 3.0] and list(inter.timestamp) == [100, 101]


def test_header_detected_from_numeric_column(tmp_path: Path):
    # No known names, but "r" is not a number where the next line has one.
    log = write(tmp_path, "log.csv", "a,b,r\n1,2,5\n")
    inter = read_dataset(log).interactions
    assert len(inter) == 1 and list(inter.user_ids) == ["1"]


def test_header_not_detected_on_data(tmp_path: Path):
    log = write(tmp_path, "log.csv", "7,8,5\n1,2,4\n")
    assert len(read_dataset(log).interactions) == 2


def test_explicit_header_flag_wins(tmp_path: Path):
    log = write(tmp_path, "log.csv", "7,8,5\n1,2,4\n")
    inter = read_dataset(log, ReadSpec(header=True)).interactions
    assert list(inter.user_ids) == ["1"]


def test_skipped_column_and_leading_zeros(tmp_path: Path):
    log = write(tmp_path, "log.txt", "007;x;0042;5\n007;y;0100;2\n010;z;0042;1\n")
    spec = ReadSpec(sep=";", columns=("user", "-", "item", "rating"))
    inter = read_dataset(log, spec).interactions
    assert list(inter.user_ids) == ["007", "010"]
    assert list(inter.item_ids) == ["0042", "0100"]
    assert list(inter.item) == [0, 1, 0]
    assert list(inter.rating) == [5, 2, 1] and inter.timestamp is None


def test_double_colon_separator(tmp_path: Path):
    log = write(tmp_path, "events.dat", "u1::i1::3.5::10\nu1::i2::4::20\n")
    spec = ReadSpec(sep="::", columns=("user", "item", "rating", "timestamp"))
    inter = read_dataset(log, spec).interactions
    assert list(inter.item_ids) == ["i1", "i2"] and list(inter.timestamp) == [10, 20]


def test_double_colon_separator_detected(tmp_path: Path):
    log = write(tmp_path, "events.dat", "u1::i1::3.5::10\nu1::i2::4::20\n")
    assert list(read_dataset(log).interactions.rating) == [3.5, 4.0]


def test_iso_timestamps(tmp_path: Path):
    log = write(tmp_path, "log.csv", "user,item,rating,timestamp\n1,2,5,2020-01-01T00:00:00Z\n"
                "1,3,4,2020-01-02\n2,3,1,1577836800\n2,4,1,2020-01-01T02:00:00+02:00\n3,4,1,1577836800.9\n")
    dataset = read_dataset(log, strict=True)
    assert list(dataset.interactions.timestamp) == [1577836800, 1577923200, 1577836800, 1577836800, 1577836800]


def test_any_rating_scale(tmp_path: Path):
    log = write(tmp_path, "log.csv", "user,item,rating\n1,2,-3\n1,3,87.25\n")
    assert list(read_dataset(log).interactions.rating) == [-3.0, 87.25]


def test_generic_movies_file_with_year_column(tmp_path: Path):
    log = write(tmp_path, "log.csv", "1,a\n2,b\n2,c\n")
    movies = write(tmp_path, "items.tsv", "id\tname\tyear\tgenres\n"
                   "a\tFirst (1990)\t1991\tX|Y\nb\tSecond (2000)\t\t\nc\t\t2005\tZ\n")
    dataset = read_dataset(log, ReadSpec(movies=str(movies)))
    assert_aligned(dataset)
    found = movies_by_id(dataset)
    assert found["a"] == ("First (1990)", 1991, ("X", "Y"))  # the year column wins over the title
    assert found["b"] == ("Second (2000)", 2000, ())
    assert found["c"] == ("movie c", 2005, ("Z",))
    assert dataset.notes == ('items.tsv: 1 movie with an empty title, titled "movie <id>" (first at line 4: movie \'c\')',)


def test_generic_movies_file_without_header(tmp_path: Path):
    log = write(tmp_path, "log.csv", "1,a\n")
    movies = write(tmp_path, "items.csv", 'a,"Title, A (1984)"\nb,Other\n')
    assert movies_by_id(read_dataset(log, ReadSpec(movies=str(movies))))["a"] == ("Title, A (1984)", 1984, ())


def test_movies_spec_columns(tmp_path: Path):
    log = write(tmp_path, "log.csv", "1,a\n")
    movies = write(tmp_path, "items.txt", "x|a|Title A (1984)\n")
    spec = ReadSpec(movies=str(movies), movies_sep="|", movies_columns=("-", "item", "title"))
    assert movies_by_id(read_dataset(log, spec))["a"] == ("Title A (1984)", 1984, ())


def test_catalogue_restricted_to_rated_items(ml_latest: Path):
    dataset = read_dataset(ml_latest)
    assert "60" not in set(dataset.movies.ids)


# --- bad input -----------------------------------------------------------------


def test_missing_path(tmp_path: Path):
    with pytest.raises(DataError, match="no such file") as caught:
        read_dataset(tmp_path / "nope.csv")
    assert "nope.csv" in str(caught.value) and "--ratings" in str(caught.value)


def test_folder_without_ratings(tmp_path: Path):
    write(tmp_path, "readme.txt", "hello")
    with pytest.raises(DataError) as caught:
        read_dataset(tmp_path)
    message = str(caught.value)
    assert str(tmp_path) in message and "ratings.csv" in message and "u.data" in message
    assert "--sep" in message and "--columns" in message


@pytest.mark.parametrize("content", ["", "\n\n", "userId,movieId,rating,timestamp\n"])
def test_empty_log(tmp_path: Path, content: str):
    with pytest.raises(DataError, match="ratings.csv"):
        read_dataset(write(tmp_path, "ratings.csv", content))


MALFORMED = ("userId,movieId,rating,timestamp\n"
             "1,1,4.0,100\n"
             "1,2,4.0\n"                 # line 3: too few cells
             "1,3,great,100\n"           # line 4: rating not a number
             "\n"
             "2,,3,100\n"                # line 6: empty item
             "2,4,3,yesterday\n"         # line 7: timestamp
             "2,5,3,100\n")


def test_malformed_rows_skipped_with_note(tmp_path: Path, tier: str):
    dataset = read_dataset(write(tmp_path, "ratings.csv", MALFORMED))
    assert list(dataset.interactions.item_ids) == ["1", "5"]
    assert list(dataset.interactions.user_ids) == ["1", "2"]
    assert dataset.notes[0] == "ratings.csv: skipped 4 malformed rows (first at line 3: expected 4 columns, found 3)"


@pytest.mark.parametrize("row, reason", [
    ("1,2,4.0", "expected 4 columns, found 3"),
    ("1,2,4.0,100,7", "expected 4 columns, found 5"),
    ("1,2,great,100", "rating 'great' is not a number"),
    ("1,2,nan,100", "rating 'nan' is not a number"),
    ("1,,4,100", "empty item id"),
    (" ,2,4,100", "empty user id"),
    ("1,2,4,yesterday", "timestamp 'yesterday'"),
])
def test_strict_raises_at_the_line(tmp_path: Path, row: str, reason: str, tier: str):
    path = write(tmp_path, "ratings.csv", "userId,movieId,rating,timestamp\n1,1,4,100\n2,1,4,100\n" + row + "\n")
    with pytest.raises(DataError) as caught:
        read_dataset(path, strict=True)
    assert caught.value.line == 4 and caught.value.path == str(path)
    assert str(caught.value).startswith(f"{path}:4: ") and reason in str(caught.value)
    assert "\n" not in str(caught.value)
    assert len(read_dataset(path).interactions) == 2


def test_line_numbers_with_crlf_blank_lines_and_double_colons(tmp_path: Path, tier: str):
    content = "\r\n\r\n1::a::5::1\r\n\r\n2::b::4\r\n   \r\n3::c::x::1\r\n4::d::3::2"
    path = write(tmp_path, "log.dat", content)
    dataset = read_dataset(path, ReadSpec(sep="::"))
    assert list(dataset.interactions.user_ids) == ["1", "4"]
    assert dataset.notes[0] == "log.dat: skipped 3 malformed rows (first at line 5: expected 4 columns, found 3)"
    with pytest.raises(DataError) as caught:
        read_dataset(path, ReadSpec(sep="::", columns=("user", "item", "rating", "timestamp")), strict=True)
    assert caught.value.line == 5


def test_header_after_blank_lines(tmp_path: Path, tier: str):
    path = write(tmp_path, "log.csv", "\n\nuserId,movieId,rating\n1,2,3\n\n1,3\n")
    dataset = read_dataset(path)
    assert list(dataset.interactions.item_ids) == ["2"]
    assert "first at line 6: expected 3 columns, found 2" in dataset.notes[0]


def test_a_quote_never_joins_the_lines_of_a_ratings_log(tmp_path: Path, tier: str):
    # One row per line: a quote left open ends with its line, so it cannot swallow the rows after it.
    path = write(tmp_path, "log.csv", 'user,item,rating\n"a\nb",1,3\nc,2\nd,4,5\n')
    with pytest.raises(DataError) as caught:
        read_dataset(path, strict=True)
    assert caught.value.line == 2 and "expected 3 columns, found 1" in str(caught.value)
    dataset = read_dataset(path)
    assert list(dataset.interactions.user_ids) == ['b"', "d"]
    assert dataset.notes[0] == "log.csv: skipped 2 malformed rows (first at line 2: expected 3 columns, found 1)"


def test_every_row_malformed(tmp_path: Path):
    with pytest.raises(DataError, match="no valid ratings"):
        read_dataset(write(tmp_path, "ratings.csv", "userId,movieId,rating,timestamp\n1,2,x,1\n"))


def test_column_count_differs_from_roles(tmp_path: Path):
    path = write(tmp_path, "log.csv", "1,2,3\n")
    with pytest.raises(DataError) as caught:
        read_dataset(path, ReadSpec(columns=("user", "item", "rating", "timestamp")))
    assert caught.value.line == 1 and "expected 4 columns" in str(caught.value)


def test_unknown_separator(tmp_path: Path):
    with pytest.raises(DataError, match="separator.*--sep"):
        read_dataset(write(tmp_path, "log.txt", "justonecolumn\nanother\n"))


def test_too_many_columns_to_guess(tmp_path: Path):
    with pytest.raises(DataError, match="cannot tell which of the 5 columns.*--columns"):
        read_dataset(write(tmp_path, "log.csv", "1,2,3,4,5\n"))


def test_missing_movies_file(tmp_path: Path):
    log = write(tmp_path, "log.csv", "1,2\n")
    with pytest.raises(DataError, match="items.csv"):
        read_dataset(log, ReadSpec(movies=str(tmp_path / "items.csv")))


def test_strict_accepts_a_clean_file(ml_latest: Path):
    assert len(read_dataset(ml_latest, strict=True).interactions) == 8


def test_unknown_role_is_a_config_error(tmp_path: Path):
    path = write(tmp_path, "log.csv", "1,2,3\n")
    with pytest.raises(ConfigError, match="user, item, rating, timestamp"):
        read_dataset(path, ReadSpec(columns=("user", "movie", "rating")))
    with pytest.raises(ConfigError, match="item, title, genres, year"):
        read_dataset(path, ReadSpec(movies_columns=("item", "name")))
    with pytest.raises(ConfigError):
        read_dataset(path, ReadSpec(columns=("user", "rating")))


def test_duplicates_keep_latest(tmp_path: Path):
    path = write(tmp_path, "ratings.csv", "userId,movieId,rating,timestamp\n"
                 "1,10,1,500\n1,20,2,100\n2,10,3,100\n1,10,4,300\n1,20,5,100\n")
    dataset = read_dataset(path)
    inter = dataset.interactions
    # (1,10): line 2 is later than line 5; (1,20): tie at 100, the later line wins.
    assert list(inter.rating) == [1, 3, 5]
    assert list(inter.user_ids[inter.user]) == ["1", "2", "1"]
    assert list(inter.item_ids[inter.item]) == ["10", "10", "20"]
    assert list(inter.item_ids) == ["10", "20"]
    assert dataset.notes[0] == ("ratings.csv: dropped 2 duplicate ratings of the same (user, item), kept the latest "
                                "by timestamp (first at line 5: user '1' rated item '10' again, first rated at line 2)")


def test_duplicates_reorder_first_appearance(tmp_path: Path):
    path = write(tmp_path, "log.csv", "1,a,1,1\n2,b,1,1\n1,a,1,2\n")
    inter = read_dataset(path).interactions
    assert list(inter.user_ids) == ["2", "1"] and list(inter.item_ids) == ["b", "a"]
    assert list(inter.user) == [0, 1]


def test_duplicates_strict_names_second_line(tmp_path: Path):
    # Blank lines make the fast reader's row numbers differ from lines.
    path = write(tmp_path, "ratings.csv", "userId,movieId,rating,timestamp\n\n1,10,1,500\n\n2,10,3,100\n1,10,4,300\n")
    with pytest.raises(DataError) as caught:
        read_dataset(path, strict=True)
    assert caught.value.line == 6 and "first rated at line 3" in str(caught.value)


def test_non_utf8_movies(tmp_path: Path, ml_latest: Path):
    write(ml_latest, "movies.csv", "movieId,title,genres\n1,Toy Story (1995),Comedy\n11,Caf\u00e9 (1995),Drama\n",
          encoding="latin-1")
    dataset = read_dataset(ml_latest)
    assert movies_by_id(dataset)["11"][0] == "Caf\ufffd (1995)"
    assert ("movies.csv: decoded 1 line with replacement characters (first at line 3: not utf-8 text: "
            "b'11,Caf\\xe9 (1995),Drama'; pass --movies-encoding latin-1, or the file's real encoding)") \
        in dataset.notes
    with pytest.raises(DataError) as caught:
        read_dataset(ml_latest, strict=True)
    assert caught.value.line == 3 and "--movies-encoding latin-1" in str(caught.value)
    fixed = read_dataset(ml_latest, ReadSpec(movies_encoding="latin-1"), strict=True)
    assert movies_by_id(fixed)["11"][0] == "Caf\u00e9 (1995)"


def test_non_utf8_ratings(tmp_path: Path):
    # Replacement characters would merge distinct ids: the log is refused, at its first bad line.
    path = write(tmp_path, "log.csv", b"user,item\n1,a\n2,caf\xe9\n")
    for strict in (False, True):
        with pytest.raises(DataError) as caught:
            read_dataset(path, strict=strict)
        assert str(caught.value) == (f"{path}:3: not utf-8 text: b'2,caf\\xe9' "
                                     "(pass --encoding latin-1, or the file's real encoding)")
    latin = read_dataset(path, ReadSpec(encoding="latin-1"))
    assert list(latin.interactions.item_ids) == ["a", "caf\u00e9"]


def test_duplicate_movie_ids_keep_first(ml_latest: Path):
    write(ml_latest, "movies.csv", "movieId,title,genres\n1,Toy Story (1995),Comedy\n1,Other (2000),Drama\n")
    dataset = read_dataset(ml_latest)
    assert movies_by_id(dataset)["1"][0] == "Toy Story (1995)"
    assert "movies.csv: skipped 1 repeated movie id, kept the first (first at line 3: movie id '1' already at line 2)" \
        in dataset.notes
    with pytest.raises(DataError, match="movies.csv:3"):
        read_dataset(ml_latest, strict=True)


def test_malformed_movie_row(ml_latest: Path):
    write(ml_latest, "movies.csv", 'movieId,title,genres\n1,Toy Story (1995),Comedy\n11,"Unclosed, (1995),Drama\n')
    dataset = read_dataset(ml_latest)
    assert movies_by_id(dataset)["11"][0] == "movie 11"
    assert any(note.startswith("movies.csv: skipped 1 malformed row (first at line 3") for note in dataset.notes)


# --- the real MovieLens copies -------------------------------------------------


def shared(name: str) -> Path:
    folder = SHARED / name
    if not folder.is_dir():
        pytest.skip(f"{folder} is not available on this machine")
    return folder


def test_real_ml_latest_small():
    dataset = read_dataset(shared("ml-latest-small"))
    inter = dataset.interactions
    assert_aligned(dataset)
    assert dataset.name == "ml-latest-small"
    # 100,836 ratings by 610 users of 9,724 movies, plus the odd extra row 999,999999.
    assert len(inter) == 100_837 and len(inter.user_ids) == 611 and len(inter.item_ids) == 9_725
    assert dataset.notes == ('movies.csv: 1 rated item not listed, titled "movie <id>" (first: 999999)',)
    movies = movies_by_id(dataset)
    assert movies["1"] == ("Toy Story (1995)", 1995, ("Adventure", "Animation", "Children", "Comedy", "Fantasy"))
    position = list(dataset.movies.ids).index("1")
    assert dataset.movies.links["imdb"][position] == "0114709"


def test_real_ml_100k():
    dataset = read_dataset(shared("ml-100k"))
    inter = dataset.interactions
    assert_aligned(dataset)
    assert dataset.name == "ml-100k"
    assert len(inter) == 100_000 and len(inter.user_ids) == 943 and len(inter.item_ids) == 1_682
    assert dataset.notes == ()
    assert movies_by_id(dataset)["1"] == ("Toy Story (1995)", 1995, ("Animation", "Children's", "Comedy"))
    assert len(dataset.users) == 943 and set(dataset.users.attributes) == {"age", "gender", "occupation"}
