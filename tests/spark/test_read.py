"""``embedder.spark.read``: Spark reads every input the local reader reads, to the same arrays, notes and errors.

Each fixture log is written in code, read by both engines from the same
``DataConfig``, and compared array for array.  One session (local[2]) serves
the module; the last tests switch it to ``local-cluster`` (separate executor
JVMs), where the executors read the file and the driver may not hold the log.
"""

from __future__ import annotations

import bz2
import gzip
import zipfile
from pathlib import Path

import numpy as np
import pytest

from tests.spark.support import NEEDS_SPARK, fast_spark
from embedder.cli import build_parser
from embedder.config import config_from_args
from embedder.errors import ConfigError, DataError
from embedder.ratings.datasets import KNOWN
from embedder.ratings.sources import load_dataset
from embedder.spark import SparkParams, collect_interactions, input_problems, log_frame, read_log, spark_session
from embedder.spark.files import uri_of

pytestmark = NEEDS_SPARK

FAST_SPARK = fast_spark(1)
CLUSTER = "local-cluster[2,1,1024]"
SHARED = Path(__file__).resolve().parents[2].parent / "shared" / "data"  # beside the repository


@pytest.fixture(scope="module")
def sessions():
    """One Spark session at a time for the module: ``get(master)`` stops the running one if it differs."""
    running = {}

    def get(master, conf=()):
        if running.get("master") != master:
            if running:
                running["spark"].stop()
            running.update(master=master, spark=spark_session(SparkParams(master=master, conf=FAST_SPARK + conf)))
        return running["spark"]

    yield get
    if running:
        running["spark"].stop()


@pytest.fixture
def spark(sessions):
    return sessions("local[2]")


def data(*argv):
    """The ``DataConfig`` the command line makes of ``argv``."""
    return config_from_args(build_parser().parse_args(list(argv)), {}, KNOWN).data


def write(path: Path, text: str | bytes, encoding: str = "utf-8") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(text if isinstance(text, bytes) else text.encode(encoding))
    return path


def assert_same(log, want, *, source: bool = True):
    """The SparkLog equals the local reader's Dataset: arrays (values and dtypes), movies, users, notes."""
    got, expected = collect_interactions(log), want.interactions
    for name in ("user_ids", "item_ids", "user", "item", "rating", "timestamp"):
        a, b = getattr(got, name), getattr(expected, name)
        assert (a is None) == (b is None), name
        if b is not None:
            assert a.dtype == b.dtype and np.array_equal(a, b), name
    assert log.notes == want.notes
    assert log.name == want.name and (not source or log.source == want.source)
    movies, local = log.movies, want.movies
    assert np.array_equal(movies.ids, local.ids) and np.array_equal(movies.titles, local.titles)
    assert np.array_equal(movies.years, local.years) and movies.genres == local.genres
    assert movies.links.keys() == local.links.keys()
    assert all(np.array_equal(movies.links[kind], local.links[kind]) for kind in local.links)
    assert (log.users is None) == (want.users is None)
    if want.users is not None:
        assert np.array_equal(log.users.ids, want.users.ids) and log.users.attributes.keys() == want.users.attributes.keys()
        assert all(np.array_equal(log.users.attributes[k], want.users.attributes[k]) for k in want.users.attributes)
    assert log.has_rating == (expected.rating is not None) and log.has_timestamp == (expected.timestamp is not None)


def same_error(spark, config, kind=DataError) -> str:
    """Both engines raise ``kind`` with the same one-line message; returns it."""
    with pytest.raises(kind) as local:
        load_dataset(config)
    with pytest.raises(kind) as got:
        read_log(spark, config)
    assert str(got.value) == str(local.value) and "\n" not in str(got.value)
    return str(got.value)


# --- fixtures written in code -------------------------------------------------------------------

RATINGS_CSV = (
    "userId,movieId,rating,timestamp\n"
    "1,10,4.0,964982703\n1,20,3.5,964981247\r\n2,10,5.0,964982224\n"
    "\n"  # a blank line: skipped silently
    "2,oops\n"  # expected 4 columns, found 2
    '"3",20," 2.5",2001-09-09T01:46:40Z\n'  # quoted cells, spaces around a number, an ISO date
    "3,30,4.0,2001-09-09 03:46:40+02:00\n"
    "1,10,2.0,964982703\n"  # the first rating again, same time: the later row wins
    "4,30,five,1000\n"  # not a number
    "4,40,3.0,1000.9\n5,,3.0,1\n"  # a decimal timestamp (truncated); an empty item id
    '6,"40,x",1.0,"2001-09-09"\n7,50,1.0,"unclosed\n'
)
MOVIES_CSV = ('movieId,title,genres\n10,Toy Story (1995),Animation|Comedy\n20,"Heat, The (1995)",Action\n'
              "30,Babylon 5,(no genres listed)\n")
LINKS_CSV = "movieId,imdbId,tmdbId\n10,0114709,862\n20,0113277,949\n"


@pytest.fixture
def ml_latest(tmp_path):
    folder = tmp_path / "ml-test"
    write(folder / "ratings.csv", RATINGS_CSV)
    write(folder / "movies.csv", MOVIES_CSV)
    write(folder / "links.csv", LINKS_CSV)
    return folder


def ml_100k(folder: Path) -> Path:
    write(folder / "u.data", "196\t242\t3\t881250949\n186\t302\t3\t891717742\n22\t377\t1\t878887116\n"
                             "196\t302\t4\t881250950\n244\t51\t2\t880606923\n22\t377\t5\t878887117\n"
                             "186\t242\t3\n")
    flags = "|".join("1" if i in (3, 5) else "0" for i in range(19))
    write(folder / "u.item", f"242|Kolya (1996)|24-Jan-1997||http://x|{flags}\n"
                             f"302|L.A. Confidential (1997)|01-Jan-1997||http://x|{flags}\n"
                             "377|Heavyweights (1994)|01-Jan-1994||http://x|" + "|".join("0" * 19) + "\n",
          "latin-1")
    write(folder / "u.genre", "".join(f"genre{i}|{i}\n" for i in range(19)))
    write(folder / "u.user", "196|49|M|writer|55105\n186|39|F|executive|00000\n22|25|M|writer|40206\n")
    return folder


def ml_1m(folder: Path) -> Path:
    write(folder / "ratings.dat", "1::1193::5::978300760\n1::661::3::978302109\n2::1193::4::978298413\n"
                                  "2::3408::4::978300275\n3::661::x::978297000\n")
    write(folder / "movies.dat", "1193::One Flew Over the Cuckoo's Nest (1975)::Drama\n"
                                 "661::James and the Giant Peach (1996)::Animation|Children's\n"
                                 "3408::Amélie (2001)::Comedy\n", "latin-1")
    write(folder / "users.dat", "1::F::1::10::48067\n2::M::56::16::70072\n")
    return folder


GENERIC = "item;user;rating\n10;u1;4\n20;u1;3.5\n10;u2;5\n10;u1;1\n;u3;2\n30;u3;4;extra\n"


# --- every layout, option and compression, compared with the local reader -------------------------------


def test_a_movielens_ratings_csv_folder_as_the_local_reader_reads_it(spark, ml_latest):
    config = data("--ratings", str(ml_latest))
    log, want = read_log(spark, config), load_dataset(config)
    assert_same(log, want)
    assert want.notes[0] == "ratings.csv: skipped 4 malformed rows (first at line 6: expected 4 columns, found 2)"
    assert want.notes[1].startswith("ratings.csv: dropped 1 duplicate rating") and len(want.notes) == 3
    assert log.source == str(ml_latest / "ratings.csv") and log.name == "ml-test"
    assert log.frame.columns == ["row", "user", "item", "rating", "timestamp"]
    assert [f.dataType.simpleString() for f in log.frame.schema] == ["bigint", "int", "int", "float", "bigint"]
    assert log.frame.is_cached


@pytest.mark.parametrize("layout", ["u.data", "ratings.dat"])
def test_the_ml_100k_and_ml_1m_layouts_with_their_movies_and_users(spark, tmp_path, layout):
    folder = ml_100k(tmp_path / "ml-100k") if layout == "u.data" else ml_1m(tmp_path / "ml-1m")
    config = data("--ratings", str(folder))
    log, want = read_log(spark, config), load_dataset(config)
    assert_same(log, want)
    assert log.users is not None and len(log.movies) == len(log.item_ids) and "skipped 1 malformed row" in log.notes[0]


@pytest.mark.parametrize("argv, text", [
    (["--sep", ";", "--columns", "item,user,rating"], GENERIC),
    ([], "u1\tm1\t4\t100\nu2\tm1\t3\t90\nu1\tm2\t5\t100\nu3\t\t1\t5\n"),  # headerless, separator detected
    (["--sep", "::", "--columns", "user,-,item", "--no-header"], "a::x::1\nb::y::2\na::z::3\n"),  # no rating
], ids=["sep-columns", "headerless", "multichar-sep"])
def test_generic_logs_with_the_format_options(spark, tmp_path, argv, text):
    config = data("--ratings", str(write(tmp_path / "my log.txt", text)), *argv)
    assert_same(read_log(spark, config), load_dataset(config))


@pytest.mark.parametrize("name", ["ratings.csv.gz", "ratings.csv.bz2", "ratings.csv.zip"])
def test_compressed_logs_natively_or_unpacked_here(spark, ml_latest, name):
    data_bytes = (ml_latest / "ratings.csv").read_bytes()
    target = ml_latest / name
    if name.endswith(".zip"):
        with zipfile.ZipFile(target, "w") as archive:
            archive.writestr("ratings.csv", data_bytes)
    else:
        target.write_bytes((bz2.compress if name.endswith(".bz2") else gzip.compress)(data_bytes))
    config = data("--ratings", str(target))
    assert_same(read_log(spark, config), load_dataset(config))


@pytest.mark.parametrize("encoding, argv", [
    ("latin-1", ["--encoding", "latin-1"]),
    ("cp1252", ["--encoding", "cp1252"]),  # transcoded here: Spark does not decode it
])
def test_other_encodings_keep_ids_and_line_numbers(spark, tmp_path, encoding, argv):
    text = "user,item,rating\nJosé,Amélie,4\nZoë,Amélie,3\nØst,Léon,bad\nJosé,Léon,5\n"
    config = data("--ratings", str(write(tmp_path / "log.csv", text, encoding)), *argv)
    log, want = read_log(spark, config), load_dataset(config)
    assert_same(log, want)
    assert list(log.user_ids) == ["José", "Zoë"] and "first at line 4" in log.notes[0]


def test_file_uris_of_a_folder_and_of_a_file(spark, ml_latest, tmp_path):
    folder = ml_100k(tmp_path / "ml-100k")
    for uri, local in ((f"file://{ml_latest}", ml_latest), (f"file://{folder}/u.data", folder / "u.data")):
        log, want = read_log(spark, data("--ratings", uri)), load_dataset(data("--ratings", str(local)))
        assert_same(log, want, source=False)
        assert log.source == f"file:{local if local.is_file() else local / 'ratings.csv'}"
    assert uri_of(Path("s3a://bucket/ml/ratings.csv")) == "s3a://bucket/ml/ratings.csv"  # as DataConfig keeps it
    assert uri_of(Path("file:///data/x")) == "file:/data/x" and uri_of(ml_latest) is None


def test_a_uri_spark_cannot_open_is_one_line(spark, tmp_path):
    with pytest.raises(DataError) as missing:
        read_log(spark, data("--ratings", f"file://{tmp_path}/nowhere"))
    assert str(missing.value).startswith(f"file:{tmp_path}/nowhere: no such file or directory (pass --ratings")
    with pytest.raises(ConfigError) as no_connector:
        read_log(spark, data("--ratings", "s3a://bucket/ml-1m/ratings.dat"))
    message = str(no_connector.value)
    assert message.startswith("s3a://bucket/ml-1m/ratings.dat: Spark has no filesystem for s3a:// URIs")
    assert "spark.jars.packages=org.apache.hadoop:hadoop-aws:" in message and "\n" not in message


def test_what_a_uri_cannot_be_is_said_before_spark_starts():
    assert input_problems(data("--ratings", "/any/local.zip", "--encoding", "cp1252")) == []
    problems = input_problems(data("--ratings", "s3a://b/ml-1m.zip", "--encoding", "cp1252"))
    assert problems == [
        "--ratings s3a://b/ml-1m.zip: Spark cannot unpack a .zip file at a URI: unpack it where it is and pass the "
        "ratings file or its folder, or pass a local copy",
        "--encoding cp1252 with --ratings s3a://b/ml-1m.zip: at a URI Spark decodes UTF-8, ASCII and latin-1 only: "
        "re-encode the file as UTF-8, or pass a local path"]
    with pytest.raises(ConfigError, match="Spark cannot unpack a .zip"):
        config_from_args(build_parser().parse_args(["--engine", "spark", "--ratings", "hdfs://nn/x.zip"]), {}, KNOWN)
    # The format options are the spark engine's too now.
    config = config_from_args(build_parser().parse_args(["--engine", "spark", "--ratings", "x.txt", "--sep", ";",
                                                         "--columns", "item,user", "--encoding", "latin-1"]), {}, KNOWN)
    assert config.engine == "spark" and config.data.read.sep == ";"


@pytest.mark.parametrize("case", ["malformed", "duplicate", "undecodable", "empty", "no-valid-rows"])
def test_strict_and_fatal_errors_are_the_local_readers(spark, ml_latest, case):
    text = {"malformed": "userId,movieId,rating,timestamp\n1,2,3.0,4\n1,2\n",
            "duplicate": "userId,movieId,rating,timestamp\n1,2,3.0,4\n1,3,3.0,4\n1,2,4.0,3\n",
            "undecodable": b"userId,movieId,rating,timestamp\n1,2,3.0,4\n1,\xff,3.0,4\n",
            "empty": "",
            "no-valid-rows": "userId,movieId,rating,timestamp\n1,2,x,4\n"}[case]
    write(ml_latest / "ratings.csv", text)
    message = same_error(spark, data("--ratings", str(ml_latest), "--strict"))
    assert message.startswith(str(ml_latest / "ratings.csv"))


def test_line_numbers_hold_across_many_splits(spark, tmp_path):
    rows = [f"{u},{i},{(u * i) % 5 + 1}.0,{1000 + u * 7 + i}" for u in range(300) for i in range(u % 13, 40, 3)]
    rows.insert(2500, "oops")
    rows.insert(500, rows[10])  # a duplicate, far from its first
    text = "userId,movieId,rating,timestamp\n" + "\n".join(rows) + "\n"
    plain = write(tmp_path / "ml-split" / "ratings.csv", text)
    packed = tmp_path / "ml-split-bz2" / "ratings.csv.bz2"
    packed.parent.mkdir()
    packed.write_bytes(bz2.compress(text.encode(), 1))
    spark.conf.set("spark.sql.files.maxPartitionBytes", "8k")
    try:
        for path in (plain, packed):
            config = data("--ratings", str(path))
            assert spark.read.text(str(path)).rdd.getNumPartitions() > 1  # Spark splits the file
            assert_same(read_log(spark, config), load_dataset(config))
    finally:
        spark.conf.unset("spark.sql.files.maxPartitionBytes")


def test_the_demo_and_an_in_memory_dataset(spark):
    from embedder.ratings.demo import make_demo

    config = data("--dataset", "demo")
    log = read_log(spark, config)
    assert_same(log, load_dataset(config))
    assert np.array_equal(log_frame(spark, make_demo(seed=0)).user_ids, log.user_ids)


@pytest.mark.shared
def test_the_real_ml_100k(spark):
    folder = SHARED / "ml-100k"
    if not folder.is_dir():
        pytest.skip(f"{folder} is not available on this machine")
    config = data("--ratings", str(folder))
    log, want = read_log(spark, config), load_dataset(config)
    assert_same(log, want)
    assert len(log.user_ids) == 943 and len(log.item_ids) == 1_682


# --- on a cluster: separate executor JVMs, and a driver that may not hold the log ----------------------------


@pytest.mark.slow
def test_executors_read_the_file_and_the_driver_gets_only_small_values(sessions, tmp_path):
    # 1 MB of results at most per action: the log's rows (~60,000 x 28 bytes coded) would not fit.
    spark = sessions(CLUSTER, (("spark.driver.maxResultSize", "1m"),
                               ("spark.executor.extraJavaOptions", "-XX:TieredStopAtLevel=1")))
    rows = [f"u{u},m{(u * 31 + k * 17) % 400},{k % 5 + 1},{10_000 + k}" for u in range(1500) for k in range(40)]
    rows.insert(30_000, "u1,m1")
    folder = tmp_path / "ml-cluster"
    write(folder / "ratings.csv", "userId,movieId,rating,timestamp\n" + "\n".join(rows) + "\n")
    write(folder / "movies.csv", "movieId,title,genres\nm1,One (2001),Drama\n")
    config = data("--ratings", str(folder))
    log, want = read_log(spark, config), load_dataset(config)
    executors = spark.sparkContext._jsc.sc().getExecutorIds()
    assert executors.size() == 2  # the tasks ran in two executor JVMs, not in the driver
    inter = want.interactions
    assert np.array_equal(log.user_ids, inter.user_ids) and np.array_equal(log.item_ids, inter.item_ids)
    assert log.notes == want.notes and "first at line 30002" in log.notes[0]
    assert np.array_equal(log.movies.titles, want.movies.titles) and "One (2001)" in log.movies.titles
    from pyspark.sql import functions as F

    # The whole log, compared by sums computed on the executors: counts, codes, ratings, times, their pairing.
    got = log.frame.agg(F.count(F.lit(1)), F.sum("user"), F.sum("item"), F.sum(F.col("user") * F.col("item")),
                        F.sum(F.col("rating") * F.col("item")), F.sum(F.col("timestamp") * F.col("user"))).first()
    user, item = inter.user.astype(np.int64), inter.item.astype(np.int64)
    assert list(got) == [len(inter), user.sum(), item.sum(), (user * item).sum(),
                         pytest.approx(float((inter.rating.astype(np.float64) * item).sum())),
                         (inter.timestamp * user).sum()]
    first = log.frame.orderBy("row").limit(500).select("user", "item", "timestamp").toArrow()
    assert np.array_equal(first.column("user").to_numpy(), inter.user[:500])
    assert np.array_equal(first.column("timestamp").to_numpy(), inter.timestamp[:500])
    with pytest.raises(Exception, match="maxResultSize|bigger than"):
        collect_interactions(log)  # the limit is real: collecting the log is what the reader never does
