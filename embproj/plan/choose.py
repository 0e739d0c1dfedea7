"""Stage 2, plan: decide which columns are the embedding, the colour, the label, the image and the hover fields.

Each choice carries a one-line reason, printed by `project` and `inspect`. A user's option always wins over a guess.
"""

from __future__ import annotations

import fnmatch
from dataclasses import dataclass, field, replace

import pyarrow as pa

from embproj.errors import InputError, OptionError
from embproj.options import Options, say
from embproj.plan.charts import choose_charts, choose_names, majority_column
from embproj.plan.columns import EMBEDDING_NAMES, MAX_CATEGORIES, ColumnInfo, describe
from embproj.plan.images import choose_image
from embproj.plan.labels import choose_label, class_codes, class_name_says, class_rank, names_a_label
from embproj.text.words import closest, guessed, listing
from embproj.vectors.missing import Settled, settle_missing
from embproj.vectors.scaling import Scaling, decide_scaling

MAX_HOVER = 8
MAX_COLOR_CHOICES = 6


@dataclass(frozen=True)
class Embedding:
    kind: str  # "list" (one column of vectors, Arrow lists or "[…]" text) or "columns" (one number per column)
    columns: tuple[str, ...]
    dims: int | None
    reason: str
    text: bool = False  # list cells stored as "[0.1, 0.2]" strings
    alternatives: tuple[str, ...] = ()
    fill: tuple[float, ...] = ()  # --missing fill: the number each column's gaps are filled with


@dataclass(frozen=True)
class Role:
    column: str | None
    reason: str
    kind: str | None = None  # colour: categorical | continuous; image: the column kind
    shape: tuple[int, ...] | None = None  # image: --image-shape for flat pixel lists


@dataclass(frozen=True)
class Plan:
    embedding: Embedding
    color: Role
    label: Role
    image: Role
    hover: tuple[str, ...]
    hover_reason: str
    info: tuple[ColumnInfo, ...] = field(default=())
    color_choices: tuple[tuple[str, str], ...] = ()  # (column, kind) the report can switch its colour to
    hover_more: int = 0  # dimensions left off the hover of a table that has nothing else to show
    charts: tuple[tuple[str, str], ...] = ()  # (column, "histogram" | "bars") charted beside the map
    charts_reason: str = ""
    names: Role = Role(None, "")  # what names the clusters: kind "words" (--text) or "majority" (a label column)
    purity: str | None = None  # the label-like column a cluster's purity is measured on
    scaling: Scaling = Scaling("none", "")  # whether each dimension is rescaled, and why
    codes: tuple[tuple[str, str], ...] = ()  # (column, why) of the whole-number columns that code classes
    notes: tuple[str, ...] = ()  # what the plan left out, for the run's warnings (columns missing most numbers)
    left_out: tuple[tuple[str, float], ...] = ()  # (column, share of the first rows missing it) left out for it

    @property
    def needed_columns(self) -> list[str]:
        """What is read of the file: the embedding and the columns shown."""
        return list(dict.fromkeys([*self.embedding.columns, *self.shown_columns]))

    @property
    def shown_columns(self) -> list[str]:
        """What the page shows of each row (colour, label, hover, image, the colour menu): all that is kept."""
        wanted = [self.color.column, self.label.column, *self.hover, self.image.column]
        wanted += [name for name, _ in self.color_choices]
        wanted += [name for name, _ in self.charts] + [self.names.column, self.purity]
        return list(dict.fromkeys(c for c in wanted if c))

    def roles(self) -> list[tuple[ColumnInfo, str, str]]:
        """(column, role, why) for every column, for `embproj inspect`."""
        out = []
        dims = set(self.embedding.columns) if self.embedding.kind == "columns" else set()
        for c in self.info:
            out.append((c, *self._role_of(c, dims)))
        return out

    def _role_of(self, c: ColumnInfo, dims: set) -> tuple[str, str]:
        if self.embedding.kind == "list" and c.name == self.embedding.columns[0]:
            return "embedding", self.embedding.reason
        if c.name in dims:
            return "dimension", "numeric, one of the embedding's columns"
        named = [("colour", self.color), ("label", self.label), ("image", self.image)]
        taken = [f"{name} ({role.reason})" for name, role in named if role.column == c.name]
        if taken:
            return " + ".join(n for n, r in named if r.column == c.name), "; ".join(taken)
        code = dict(self.codes).get(c.name)
        if c.name in dict(self.left_out):
            code = f"missing in {dict(self.left_out)[c.name]:.0%} of the first rows ({say('missing', 'drop')} keeps it)"
        if c.name in self.hover:
            note = f"identifier ({c.note})" if c.note else code
            return "hover", f"{note}, not a dimension; shown on hover" if note else "shown on hover"
        if code:
            return "unused", f"{code}, not a dimension"
        if c.name in self.embedding.alternatives:
            return "unused", f"another vector column; choose it with {say('embedding')}"
        why = {
            "id": f"identifier: {c.note}; not a dimension ({say('columns')} can make it one)"
            if c.numbers
            else f"identifier: {c.note}",
            "text": "free text, many distinct values",
            "other": f"type {c.type} is not used",
            "float": "numeric, not part of the embedding",
            "int": "numeric, not part of the embedding",
        }.get(c.kind, f"a {c.kind} column, not needed")
        return "unused", why

    def explain(self) -> list[str]:
        e = self.embedding
        lines = [f"embedding: {_describe_embedding(e)} ({e.reason})", f"scale: {self.scaling.text}"]
        for name, role in (("colour", self.color), ("label", self.label), ("image", self.image)):
            lines.append(f"{name}: {_quote(role.column) if role.column else 'none'} ({role.reason})")
        lines.append(f"hover: {', '.join(map(_quote, self.hover)) or 'none'} ({self.hover_reason})")
        others = [f"{_quote(name)} ({kind})" for name, kind in self.color_choices if name != self.color.column]
        if others:
            lines.append(f"colour choices in the page: {', '.join(others)}")
        charts = ", ".join(f"{_quote(name)} ({kind})" for name, kind in self.charts) or "none"
        lines.append(f"charts: {charts} ({self.charts_reason})")
        lines.append(f"cluster names: {self.names.reason}")
        return lines


def make_plan(head: pa.Table, opts: Options, where: str = "") -> Plan:
    info = describe(head)
    by_name = {c.name: c for c in info}
    for option in ("embedding", "color", "label", "image"):
        name = getattr(opts, option)
        if name is not None and name not in by_name and not (option != "embedding" and name == ""):
            raise _unknown_column(option, name, info)
    for listed in ("hover", "charts"):
        for name in getattr(opts, listed) or ():
            if name not in by_name:
                raise _unknown_column(listed, name, info, getattr(opts, listed))
    if opts.text is not None and opts.text not in by_name:
        raise _unknown_column("text", opts.text, info)
    image = Role(*choose_image(info, by_name, opts))
    codes = class_codes(info)
    color = _choose_color(info, by_name, opts, {image.column}, codes)
    embedding, settled = _choose_embedding(info, by_name, opts, {image.column, color.column}, codes, head, where)
    if color.column is None and opts.color is None:
        color = _continuous_color(info, exclude={image.column, *embedding.columns, *dict(settled.left)}) or color
    label = _choose_label(info, opts, color, exclude={image.column, *embedding.columns})
    hover, hover_reason = _choose_hover(info, opts, used={image.column, *embedding.columns}, first=(label, color))
    dims, more = embedding.columns if embedding.kind == "columns" else (), 0
    if not hover and opts.hover is None and dims:  # a table of nothing but its dimensions (W&B's hello world)
        hover, more = dims[:MAX_HOVER], max(0, len(dims) - MAX_HOVER)
        hover_reason = "the table has only its dimensions" + (f", the first {MAX_HOVER}" if more else "")
    used = {image.column, *embedding.columns}
    choices = _color_choices(info, color, used, codes) if opts.color != "" else ()
    charts, charts_reason = choose_charts(info, by_name, opts, used)
    names = Role(*choose_names(by_name, opts, (label.column, color.column)))
    purity = majority_column(by_name, (label.column, color.column))
    scaling = decide_scaling(embedding.kind, [by_name[c] for c in embedding.columns], opts.scale)
    return Plan(embedding, color, label, image, hover, hover_reason, tuple(info), choices, more, charts, charts_reason,
                names, purity, scaling, tuple(codes.items()), (settled.note,) if settled.note else (),
                settled.left)  # fmt: skip


# -- embedding ------------------------------------------------------------------------------------------------


def _choose_embedding(info, by_name, opts: Options, exclude: set, codes: dict[str, str], head, where: str):
    """(Embedding, missing.Settled): the embedding, and what its numeric columns' missing numbers cost."""
    embedding = _embedding(info, by_name, opts, exclude, codes, where)
    if embedding.kind != "columns":
        return embedding, Settled(())
    settled = settle_missing(list(embedding.columns), head, opts.missing, bool(opts.columns))
    if settled.fill:
        reason = f"{embedding.reason}; a missing number is filled with its column's median in the first rows"
        return replace(embedding, fill=settled.fill, reason=reason), settled
    if not settled.left:
        return embedding, settled
    reason = embedding.reason.replace(f"the {len(embedding.columns)} numeric", f"the {len(settled.columns)} numeric")
    reason += f"; left out for their missing numbers: {', '.join(_quote(c) for c, _ in settled.left)}"
    return replace(embedding, columns=settled.columns, dims=len(settled.columns), reason=reason), settled


def _embedding(info, by_name, opts: Options, exclude: set, codes: dict[str, str], where: str) -> Embedding:
    if opts.embedding:
        col = by_name[opts.embedding]
        if col.is_vector:
            return Embedding("list", (col.name,), col.dims, f"set by {say('embedding')}", col.kind == "text-vector")
        if col.numeric or col.kind == "id":
            raise OptionError(
                f"{say('embedding', col.name, quote=True)} holds one number per row, not a vector",
                f"to use numeric columns as dimensions, pass {say('columns', (col.name + '*',))} or a list of globs",
            )
        raise OptionError(
            f"{say('embedding', col.name, quote=True)} is {col.type}, not a list of numbers",
            "choose a column of vectors",
        )
    if opts.columns:
        return _columns_from_globs(info, opts.columns)
    vectors = [c for c in info if c.is_vector and c.name not in exclude]
    vectors = vectors or [c for c in info if c.is_vector]  # flat pixel lists can be both the image and the embedding
    if vectors:
        best = sorted(vectors, key=lambda c: (not EMBEDDING_NAMES.search(c.name), -(c.dims or 0)))[0]
        others = tuple(c.name for c in vectors if c is not best)
        if not others:
            reason = f"the only column of {'[…] text ' if best.kind == 'text-vector' else ''}vectors"
        else:
            why = "its name says embedding" if EMBEDDING_NAMES.search(best.name) else "the widest"
            reason = f"{why}, among {len(vectors)} vector columns; others: {', '.join(map(_quote, others))}"
        return Embedding("list", (best.name,), best.dims, reason, best.kind == "text-vector", others)
    numeric = [c for c in info if c.numeric and c.name not in {*exclude, *codes} and not names_a_label(c)]
    if len(numeric) >= 2:
        reason = f"no vector column, so the {len(numeric)} numeric columns, one per dimension"
        for what, left in (
            ("identifiers", [c.name for c in info if c.kind == "id" and c.numbers]),
            ("class codes", codes),
        ):
            if left:
                reason += f"; {what} left out: {', '.join(map(_quote, left))}"
        return Embedding("columns", tuple(c.name for c in numeric), len(numeric), reason)
    seen = listing([f"{c.name} ({c.type})" for c in info], quote=False)
    found = "only one numeric column" if numeric else "no column of vectors and no numeric columns"
    raise InputError(
        f"no embedding found: {found}; columns seen: {seen}",
        f"choose one with {say('embedding', 'COL')} (a column of lists) or {say('columns', ('GLOB',))} (one "
        "numeric column per dimension)",
        where=where or None,
    )


def _columns_from_globs(info, globs) -> Embedding:
    chosen: list[str]
    wrong: list[str]
    chosen, wrong = [], []
    for c in info:
        if any(fnmatch.fnmatchcase(c.name, g) for g in globs):
            (chosen if c.numbers else wrong).append(c.name)  # identifiers too: the user chose them
    if len(chosen) < 1:
        extra = f" (matched but not numeric: {listing(wrong)})" if wrong else ""
        numeric = [c.name for c in info if c.numbers]
        raise OptionError(
            f"{say('columns', tuple(globs))} matches no numeric column{extra}",
            f"numeric columns are: {listing(numeric)}",
        )
    reason = f"{say('columns', tuple(globs), bare=True)} matched {len(chosen)} numeric columns"
    if wrong:
        reason += f"; non-numeric left out: {', '.join(map(_quote, wrong))}"
    return Embedding("columns", tuple(chosen), len(chosen), reason)


# -- colour, label, image, hover ------------------------------------------------------------------------------


def _choose_color(info, by_name, opts: Options, exclude: set, codes: dict[str, str]) -> Role:
    if opts.color == "":
        return Role(None, "turned off")
    if opts.color:
        col = by_name[opts.color]
        many = col.kind == "float" or (col.kind == "int" and col.distinct > MAX_CATEGORIES)
        kind = "continuous" if many else "categorical"
        return Role(col.name, f"set by {say('color')}, {kind}", kind)
    cats = [c for c in info if c.name not in exclude and (_is_categorical(c) or c.name in codes)]
    if cats:
        best = sorted(cats, key=class_rank)[0]
        if best.name in codes:
            return Role(best.name, f"{codes[best.name]}, not a dimension", "categorical")
        why = class_name_says(best)
        return Role(best.name, f"{best.distinct} distinct values in the first rows, {why}", "categorical")
    return Role(None, f"no label-like column (few distinct values); pick one with {say('color')}")


def _continuous_color(info, exclude: set) -> Role | None:
    """No label-like column: a numeric column outside the embedding (a score, a length) colours continuously."""
    for c in info:
        if c.name not in exclude and c.numeric and c.distinct > 1:
            return Role(
                c.name, "no label-like column; numeric and not part of the embedding, so continuous", "continuous"
            )
    return None


def _color_choices(info, color: Role, used: set, codes: dict[str, str]) -> tuple[tuple[str, str], ...]:
    """The colour first, then other label-like and numeric scalar columns (never the embedding's own
    dimensions), at most MAX_COLOR_CHOICES: the report's colour menu."""
    choices = [(color.column, color.kind or "categorical")] if color.column else []
    for c in info:
        if len(choices) >= MAX_COLOR_CHOICES:
            break
        if c.name in used or c.name == color.column or c.distinct < 2:
            continue
        if c.kind == "category" or _is_categorical(c) or c.name in codes:
            choices.append((c.name, "categorical"))
        elif c.kind == "float" or (c.kind == "int" and c.distinct > MAX_CATEGORIES):
            choices.append((c.name, "continuous"))
        elif c.kind == "int":
            choices.append((c.name, "categorical"))
    return tuple(choices)


def _is_categorical(c: ColumnInfo) -> bool:
    if c.kind == "category":
        return 2 <= c.distinct
    if c.kind == "int" and names_a_label(c):
        return 2 <= c.distinct <= MAX_CATEGORIES
    return False


def _choose_label(info, opts: Options, color: Role, exclude: set) -> Role:
    if opts.label == "":
        return Role(None, "turned off")
    if opts.label:
        return Role(opts.label, f"set by {say('label')}")
    return Role(*choose_label(info, color.column, exclude))


def _choose_hover(info, opts: Options, used: set, first) -> tuple[tuple[str, ...], str]:
    if opts.hover is not None:
        return tuple(opts.hover), f"set by {say('hover')}"
    wanted = [r.column for r in first if r.column]
    for c in info:
        if c.name not in used and c.is_scalar and c.name not in wanted:
            wanted.append(c.name)
    chosen = tuple(dict.fromkeys(wanted))[:MAX_HOVER]
    reason = "every column that is not the embedding or the image"
    if len(dict.fromkeys(wanted)) > MAX_HOVER:
        reason = f"the first {MAX_HOVER} scalar columns; choose others with {say('hover')}"
    return chosen, reason


# -- messages -------------------------------------------------------------------------------------------------


def _quote(name: str | None) -> str:
    return f'"{name}"'


def _describe_embedding(e: Embedding) -> str:
    if e.kind == "list":
        return f"{_quote(e.columns[0])}, {e.dims} dims"
    shown = ", ".join(map(_quote, e.columns[:3])) + (f" … {_quote(e.columns[-1])}" if len(e.columns) > 3 else "")
    return f"{len(e.columns)} columns {shown}"


def _unknown_column(option: str, name: str, info, listed: tuple[str, ...] | None = None) -> OptionError:
    """`--color "Target": no such column, did you mean --color target? Columns are: …` (every column, or the
    first 30 and how many more). `listed`: the whole list the name came in (--hover), corrected in the guess."""
    names = [c.name for c in info]
    guess = closest(name, names)
    if listed is None:
        said, suggestion = say(option, name, quote=True), guess and say(option, guess)
    else:
        said = say(option, (name,), quote=True)
        suggestion = guess and say(option, tuple(guess if n == name else n for n in listed))
    return OptionError(f"{said}: no such column", guessed(suggestion, f"columns are: {listing(names)}"))
