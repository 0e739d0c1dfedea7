"""Stage 2: smart defaults with reasons; options always win."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest

from conftest import vector_table
from embproj.errors import EmbprojError
from embproj.options import Options
from embproj.plan.choose import make_plan
from reportdata import page_data, points


def test_digits_defaults(digits_table):
    plan = make_plan(digits_table.slice(0, 1000), Options())
    assert plan.embedding.kind == "columns"
    assert len(plan.embedding.columns) == 64 and plan.embedding.columns[0] == "pixel_0_0"
    assert plan.color.column == "target" and plan.color.kind == "categorical"
    assert plan.image.column == "image" and plan.image.kind == "pixels"
    assert "8×8" in plan.image.reason
    text = "\n".join(plan.explain())
    assert 'embedding: 64 columns "pixel_0_0"' in text
    assert 'colour: "target" (10 distinct values' in text


def test_vector_column_wins_and_id_is_not_a_dimension():
    plan = make_plan(vector_table(), Options())
    assert plan.embedding.kind == "list" and plan.embedding.columns == ("embedding",)
    assert plan.embedding.dims == 8
    assert plan.color.column == "label"
    assert "id" not in plan.embedding.columns


def test_several_vector_columns_choose_by_name_and_list_others():
    table = vector_table().append_column("clip", pa.array([[1.0] * 16] * 120, type=pa.list_(pa.float32())))
    plan = make_plan(table, Options())
    assert plan.embedding.columns == ("embedding",)
    assert plan.embedding.alternatives == ("clip",)
    assert '"clip"' in plan.embedding.reason


def test_text_vectors_from_csv_cells():
    table = pa.table({"vec": [str([0.1 * i, 0.2, 0.3]) for i in range(30)], "kind": ["a", "b"] * 15})
    plan = make_plan(table, Options())
    assert plan.embedding.text and plan.embedding.dims == 3


def test_overrides_win(digits_table):
    head = digits_table.slice(0, 200)
    plan = make_plan(head, Options(columns=("pixel_0_*",), color="pixel_0_3", image="", hover=("target",)))
    assert plan.embedding.columns == tuple(f"pixel_0_{i}" for i in range(8))  # the globs win, colour included
    assert plan.color.column == "pixel_0_3" and plan.color.kind == "continuous"
    assert plan.image.column is None
    assert plan.hover == ("target",)


@pytest.mark.parametrize(
    "opts, message",
    [
        (Options(embedding="nope"), '--embedding "nope": no such column, columns are: "id", "label", "embedding"'),
        (Options(color="nope"), '--color "nope": no such column'),
        (Options(columns=("zzz*",)), "--columns 'zzz*' matches no numeric column"),
        (Options(embedding="id"), "holds one number per row"),
    ],
)
def test_bad_overrides_name_the_fix(opts, message):
    with pytest.raises(EmbprojError) as err:
        make_plan(vector_table(), opts)
    assert message in str(err.value)


def test_no_embedding_lists_the_columns_and_options():
    table = pa.table({"name": ["a", "b", "c"], "score": [1.0, 2.0, 3.0]})
    with pytest.raises(EmbprojError) as err:
        make_plan(table, Options(), where="t.csv")
    text = str(err.value)
    assert text.startswith("t.csv: no embedding found: only one numeric column")
    assert "name (string)" in text and "--embedding COL" in text and "--columns GLOB" in text


def test_free_text_and_ids_are_not_colours():
    n = 100
    rng = np.random.default_rng(1)
    table = pa.table(
        {
            "uid": [f"u{i:05d}" for i in range(n)],
            "sentence": [f"this is sentence number {i}" for i in range(n)],
            "a": rng.normal(size=n),
            "b": rng.normal(size=n),
        }
    )
    plan = make_plan(table, Options())
    assert plan.color.column is None
    assert "pick one with --color" in plan.color.reason
    assert plan.embedding.columns == ("a", "b")


def test_a_numeric_column_outside_the_embedding_colours_continuously():
    table = vector_table().drop_columns(["label"]).append_column("score", pa.array(np.linspace(0, 1, 120)))
    plan = make_plan(table, Options())
    assert plan.color.column == "score" and plan.color.kind == "continuous"
    assert "numeric and not part of the embedding" in plan.color.reason


def test_colour_choices_for_the_page_are_explained():
    table = vector_table().append_column("score", pa.array(np.linspace(0, 1, 120)))
    table = table.append_column("group", pa.array(["a", "b", "c", "d"] * 30))
    plan = make_plan(table, Options())
    assert 'colour choices in the page: "score" (continuous), "group" (categorical)' in plan.explain()


def measures(n: int = 60, seed: int = 0) -> dict:
    rng = np.random.default_rng(seed)
    return {"width": rng.normal(10, 2, n), "height": rng.normal(10, 2, n)}


@pytest.mark.parametrize(
    "name, values, why",
    [
        ("rownames", np.sort(np.random.default_rng(1).choice(500, 60, replace=False)) + 1, "a sequence"),
        ("position", np.random.default_rng(2).permutation(60), "the numbers 0 to 59 each once, in another order"),
        ("countyid", np.random.default_rng(3).integers(1, 86, 60), '("countyid")'),
        ("idcode", np.random.default_rng(4).integers(1, 5000, 60), '("idcode")'),
        ("movieId", np.random.default_rng(5).choice(200_000, 60, replace=False), '("id")'),
        ("Postal Code", np.random.default_rng(6).integers(10_000, 99_999, 60), '("code")'),
        ("Sample Number", np.random.default_rng(7).permutation(np.arange(5, 185, 3)), '("number")'),
        ("FLIGHT_NUM", np.random.default_rng(8).integers(1, 3_000, 60), '("num")'),
        ("zipcode", np.random.default_rng(9).integers(1_000, 99_999, 60).astype(float), '("zipcode")'),
    ],
)
def test_identifiers_are_not_dimensions_nor_colours(name, values, why):
    table = pa.table({name: values, **measures()})
    plan = make_plan(table, Options())
    assert plan.embedding.columns == ("width", "height") and plan.color.column != name
    assert f'identifiers left out: "{name}"' in plan.embedding.reason
    role, reason = next((role, why) for c, role, why in plan.roles() if c.name == name)
    assert role in ("hover", "unused") and reason.startswith("identifier (" if role == "hover" else "identifier: ")
    assert why in reason
    chosen = make_plan(table, Options(columns=(name, "width")))  # --columns wins
    assert chosen.embedding.columns == (name, "width")


@pytest.mark.parametrize(
    "name, values",
    [
        ("acid", np.random.default_rng(1).normal(3, 1, 60)),  # ends in "id", a measurement
        ("number_of_rooms", np.random.default_rng(2).integers(1, 9, 60)),  # a count, "number" first
        ("Population", np.random.default_rng(3).choice(20_000, 60, replace=False)),  # unique, and measured
        ("valid", np.random.default_rng(4).integers(0, 50, 60)),
        ("afraid", np.random.default_rng(5).integers(0, 4, 60)),  # psych's msq: a 0-3 mood score
        ("Number", np.random.default_rng(6).integers(2, 11, 60)),  # rpart's kyphosis: vertebrae involved
        ("NO", np.random.default_rng(7).integers(5, 90, 60)),  # texmex's air: nitric oxide beside NO2
        ("Wealth", np.random.default_rng(8).permutation(60) + 1),  # HistData's Guerry: a rank, 1 to n
    ],
)
def test_measurements_that_look_like_identifiers_stay_dimensions(name, values):
    plan = make_plan(pa.table({name: values, **measures()}), Options())
    assert next(c for c in plan.info if c.name == name).kind != "id"
    # a dimension, or (a few whole numbers beside fractions) a class code: a measurement either way
    assert name in plan.embedding.columns or name in dict(plan.codes)


def test_a_numeric_y_is_a_dimension_unless_it_codes_classes():
    rng = np.random.default_rng(0)
    xy = make_plan(pa.table({"x": rng.normal(size=50), "y": rng.normal(size=50)}), Options())
    assert xy.embedding.columns == ("x", "y")
    diamonds = {c: rng.normal(5, 1, 50) for c in ("carat", "x", "y", "z")}
    assert make_plan(pa.table(diamonds), Options()).embedding.columns == ("carat", "x", "y", "z")
    coded = make_plan(pa.table({**measures(50), "y": rng.integers(0, 3, 50)}), Options())  # scikit-learn's X, y
    assert coded.embedding.columns == ("width", "height") and coded.color.column == "y"


CARS = ["Mazda RX4", "Datsun 710", "Hornet 4 Drive", "Valiant", "Duster 360", "Merc 240D", "Merc 230", "Fiat 128"]


def cars(n: int = 40, seed: int = 0) -> pa.Table:
    """mtcars as R's write.csv and pandas read it back: row names in "Unnamed: 0", a few whole-number codes
    (cylinders, gears, a 0/1 transmission) beside measurements with fractions."""
    rng = np.random.default_rng(seed)
    return pa.table(
        {
            "Unnamed: 0": [f"{CARS[i % len(CARS)]} {i}" for i in range(n)],
            "mpg": np.round(rng.normal(20, 6, n), 1),
            "cyl": rng.choice([4, 6, 8], n),
            "wt": np.round(rng.normal(3.2, 1, n), 3),
            "hp": rng.integers(50, 330, n),
            "am": rng.integers(0, 2, n),
            "gear": rng.integers(3, 6, n),
        }
    )


def test_row_names_are_the_title_and_codes_are_colours_not_dimensions():
    plan = make_plan(cars(), Options())
    assert plan.label.column == "Unnamed: 0" and "row names" in plan.label.reason
    assert plan.embedding.columns == ("mpg", "wt", "hp")  # hp has too many values to be a code
    assert plan.color.column == "cyl" and plan.color.kind == "categorical"
    assert plan.color.reason == (
        "a class code (3 distinct whole numbers in the first rows, its name says class), not a dimension"
    )
    assert 'class codes left out: "cyl", "am", "gear"' in plan.embedding.reason
    roles = {c.name: (role, why) for c, role, why in plan.roles()}
    assert roles["am"] == (
        "hover",
        "a class code (2 distinct whole numbers in the first rows, beside measurements with fractions), not a "
        "dimension; shown on hover",
    )
    assert ("am", "categorical") in plan.color_choices
    assert make_plan(cars(), Options(columns=("mpg", "cyl", "am"))).embedding.columns == ("mpg", "cyl", "am")


def test_a_few_whole_numbers_are_dimensions_when_nothing_has_fractions():
    rng = np.random.default_rng(0)  # a survey's answers, 1 to 5: measurements, not classes
    table = pa.table({f"q{i}": rng.integers(1, 6, 80) for i in range(6)})
    plan = make_plan(table, Options())
    assert plan.embedding.columns == tuple(f"q{i}" for i in range(6)) and not plan.codes


@pytest.mark.parametrize(
    "column, values",
    [
        ("слово", ["кошка", "собака", "дом", "река", "лес", "город", "окно", "книга", "море", "хлеб"] * 2),
        (
            "state",
            [
                "Alabama",
                "Alaska",
                "Arizona",
                "Arkansas",
                "California",
                "Colorado",
                "Connecticut",
                "Delaware",
                "Florida",
                "Georgia",
                "Hawaii",
                "Idaho",
                "Illinois",
                "Indiana",
                "Iowa",
                "Kansas",
                "Kentucky",
                "Louisiana",
                "Maine",
                "Maryland",
            ],
        ),  # fmt: skip
    ],
)
def test_short_text_unique_per_row_is_the_title_in_any_language(column, values):
    n = len(values)
    if column == "слово":  # words repeat a little: still names
        values = [f"{v}{i // 10 or ''}" for i, v in enumerate(values)]
    table = pa.table({column: values, **measures(n)})
    plan = make_plan(table, Options())
    assert plan.label.column == column and plan.label.reason == f"short text, {n} distinct values in {n} rows: names"
    essays = pa.table({"body": [f"{v} " * 20 for v in values], **measures(n)})  # long text is not a name
    assert make_plan(essays, Options()).label.column is None


def test_the_hover_title_of_an_r_csv_is_its_row_name(cli, tmp_path):
    """R's write.csv: a quoted header whose first name is "", the row names in that column."""
    table = cars()
    lines = ['"","' + '","'.join(table.column_names[1:]) + '"']
    for row in table.to_pylist():
        values = list(row.values())
        lines.append(f'"{values[0]}",' + ",".join(str(v) for v in values[1:]))
    (tmp_path / "mtcars.csv").write_text("\n".join(lines) + "\n")
    result = cli("project", "mtcars.csv", "--algo", "pca", "-o", "r.html")
    assert result.exit_code == 0, result.stderr
    page = (tmp_path / "r.html").read_text(encoding="utf-8")
    meta = page_data(page)
    title = meta["fields"][meta["label"]]
    assert points(page)[title["key"]][3] == "Valiant 3"  # the hover's title: the car, not "row 3"
