"""Write tables as Hive-partitioned Parquet, commit them atomically, keep the manifest.

Layout (``SPEC.md``)::

    OUT/<table>/wiki_db=<db>/snapshot=<YYYY-MM>/part-<unit>.parquet
    OUT/_manifest.json
    OUT/_SUCCESS

A part is written under a hidden temporary name (readers skip names starting
with ``.``) and renamed to its final name only once complete, so a crash never
leaves a file a reader would take for output. Files are created 0600 and
folders 0700 (0640/0750 with ``group_readable``): dumps' contributor data is
personal data.
"""

from __future__ import annotations

import errno
import json
import os
from typing import Any, Sequence

import pyarrow as pa
import pyarrow.parquet as pq

from .errors import OutputError

#: Rows in a row group: bounds the writer's memory (buffered as Arrow, ~100 bytes a revision).
ROW_GROUP_ROWS = 65_536
#: ... and the Arrow bytes buffered for one: a wide row (the revisions table has 37 columns) makes a
#: full row group tens of MB, which would make a unit's memory grow with its input up to that point.
ROW_GROUP_BYTES = 8 << 20
#: Rows kept as Python objects before they are packed into an Arrow batch.
BATCH_ROWS = 4_096
#: For tables with texts, a row group is also cut once it holds this many bytes of text.
ROW_GROUP_TEXT_BYTES = 16 << 20
#: Row groups are cut at page boundaries (``mark``), so that a page's rows can be withdrawn;
#: a page with more than this many times a row group's rows, or its text, is cut inside, and
#: no longer can. Text is held less: a row group's text is copied a few times as it is written.
PAGE_HOLD_FACTOR = 4
PAGE_HOLD_TEXT_FACTOR = 2


def modes(group_readable: bool) -> tuple[int, int]:
    """(file mode, folder mode) for output."""
    return (0o640, 0o750) if group_readable else (0o600, 0o700)


def output_error(exc: OSError, path: str) -> OutputError:
    """An ``OSError`` of writing the output as one clear ``OutputError`` (full, read-only, ...)."""
    reason = {
        errno.ENOSPC: "the output disk is full",
        errno.EACCES: "permission denied",
        errno.EROFS: "the output folder is read-only",
        errno.EDQUOT: "the disk quota is exceeded",
    }.get(exc.errno, exc.strerror or str(exc))
    return OutputError(f"cannot write output: {reason}", path=path)


def make_dirs(path: str, group_readable: bool = False, tighten: bool = False) -> None:
    """Create ``path`` and its missing parents with the output folder mode; with ``tighten``, an
    existing ``path`` (a folder of the output: OUT, a partition) is given that mode too."""
    _, dir_mode = modes(group_readable)
    missing = []
    head = os.path.abspath(path)
    while not os.path.isdir(head):
        missing.append(head)
        head = os.path.dirname(head)
    try:
        for folder in reversed(missing):
            try:
                os.mkdir(folder, dir_mode)
            except FileExistsError:
                continue
            os.chmod(folder, dir_mode)  # mkdir's mode is filtered by the umask
        if tighten and not missing and os.stat(head).st_mode & 0o777 != dir_mode:
            os.chmod(head, dir_mode)  # an existing folder of the output (a 0777 OUT) gets the run's mode
    except OSError as exc:
        raise output_error(exc, path) from exc


def partition_dir(out: str, table: str, wiki_db: str, snapshot: str) -> str:
    return os.path.join(out, table, f"wiki_db={wiki_db}", f"snapshot={snapshot}")


def _open_private(path: str, group_readable: bool):
    file_mode, _ = modes(group_readable)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, file_mode)
    os.fchmod(fd, file_mode)
    return os.fdopen(fd, "wb")


#: Columns of texts. Their values are unique, so a dictionary would only cost time and a copy of
#: every text; and min/max statistics of a 50 MB text would copy it a few more times.
TEXT_COLUMNS = ("revision_text", "ops", "revision_content_slots")

#: The characters of a text column's value, by column: a text, a diff's ops, (role, slot) pairs.
_TEXT_CHARS = {
    "revision_text": len,
    "ops": lambda ops: sum(len(op[4]) for op in ops),
    "revision_content_slots": lambda slots: sum(len(slot[0] or "") for _, slot in slots),
}


def _non_text_columns(schema: pa.Schema) -> list[str]:
    """The columns worth a dictionary and statistics: all but the texts (given by their leaf paths)."""
    names = []
    for field in schema:
        if field.name in TEXT_COLUMNS:
            if field.name == "ops":
                names += [f"ops.list.element.{sub.name}" for sub in field.type.value_type if sub.name != "text"]
            elif field.name == "revision_content_slots":
                names += [f"{field.name}.key_value.key"] + [
                    f"{field.name}.key_value.value.{sub.name}" for sub in field.type.item_type
                    if sub.name != "content_body"]
            continue
        names.append(field.name)
    return names


def write_atomically(path: str, data: bytes, group_readable: bool = False) -> None:
    """Write ``data`` to ``path`` through a temporary file and a rename."""
    tmp = os.path.join(os.path.dirname(path), f".{os.path.basename(path)}.tmp-{os.getpid()}")
    try:
        with _open_private(tmp, group_readable) as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except OSError as exc:
        _remove_quietly(tmp)
        raise output_error(exc, path) from exc


def _remove_quietly(path: str) -> None:
    try:
        os.unlink(path)
    except OSError:
        pass


class PartWriter:
    """One table's Parquet part for one unit, buffered by rows and committed atomically.

    ``append`` takes one row as a tuple in schema order. Rows are packed into
    Arrow batches every ``BATCH_ROWS`` rows, and the batches written as one row
    group once there are ``ROW_GROUP_ROWS`` rows (or ``ROW_GROUP_TEXT_BYTES`` of
    text, or ``ROW_GROUP_BYTES`` of Arrow data), so memory stays bounded and compact.

    Row groups are written at page boundaries: ``mark()`` says a page begins, and
    ``rollback()`` withdraws the rows appended since (a page that malformed XML
    cut short). Only a page holding several row groups' worth (``PAGE_HOLD_*``) is
    written out before it ends; ``rollback`` then returns False.
    """

    def __init__(self, final_path: str, schema: pa.Schema, group_readable: bool = False):
        self.final_path = final_path
        self.schema = schema
        self.group_readable = group_readable
        self.rows = 0
        folder = os.path.dirname(final_path)
        make_dirs(folder, group_readable, tighten=True)
        self.tmp_path = os.path.join(folder, f".{os.path.basename(final_path)}.tmp-{os.getpid()}")
        self._columns: list[list] = [[] for _ in schema]
        self._pieces: list = []  # rows as ``Pieces`` not yet made a batch, after the Python rows
        self._piece_rows = 0
        self._piece_bytes = 0
        self._batches: list[pa.RecordBatch] = []
        self._batched_rows = 0
        self._batched_bytes = 0
        self._text_columns = [(i, _TEXT_CHARS[f.name]) for i, f in enumerate(schema) if f.name in TEXT_COLUMNS]
        self._buffered_text = 0
        self._due = False  # a row group is full: write it at the next page boundary
        self._mark = 0  # rows buffered when the current page began; None once some were written
        try:
            self._file = _open_private(self.tmp_path, group_readable)
            plain = _non_text_columns(schema)
            self._writer = pq.ParquetWriter(self._file, schema, compression="zstd", use_dictionary=plain,
                                            write_statistics=plain)
        except OSError as exc:
            raise output_error(exc, self.tmp_path) from exc

    def append(self, row: Sequence[Any]) -> None:
        if self._pieces:
            self._pack()
        for column, value in zip(self._columns, row):
            column.append(value)
        for i, chars in self._text_columns:
            value = row[i]
            if value:
                self._buffered_text += chars(value)
        if self._buffered_text >= ROW_GROUP_TEXT_BYTES:
            self._full()
        elif len(self._columns[0]) >= BATCH_ROWS:
            self._pack()
            if self._group_full():
                self._full()

    def _group_full(self) -> bool:
        return self._batched_rows >= ROW_GROUP_ROWS or self._batched_bytes >= ROW_GROUP_BYTES

    def _full(self) -> None:
        """A row group's worth is buffered: write it now if the page is too large to hold, else at its end."""
        self._due = True
        if (self._buffered_text >= PAGE_HOLD_TEXT_FACTOR * ROW_GROUP_TEXT_BYTES
                or self._batched_rows >= PAGE_HOLD_FACTOR * ROW_GROUP_ROWS
                or self._batched_bytes >= PAGE_HOLD_FACTOR * ROW_GROUP_BYTES):
            self.flush()
            self._mark = None

    def mark(self) -> None:
        """A page begins: write a full row group now, between pages."""
        if self._due:
            self.flush()
        self._mark = self._buffered_rows()

    def _buffered_rows(self) -> int:
        return self._batched_rows + len(self._columns[0]) + self._piece_rows

    def rollback(self) -> bool:
        """Withdraw the rows appended since ``mark()``; False when some were already written."""
        if self._mark is None:
            return False
        self._pack()
        keep, batches, rows = self._mark, [], 0
        for batch in self._batches:
            if rows + batch.num_rows > keep:
                batch = batch.slice(0, keep - rows)
            if batch.num_rows:
                batches.append(batch)
                rows += batch.num_rows
            if rows == keep:
                break
        self._batches, self._batched_rows = batches, rows
        self._batched_bytes = sum(batch.nbytes for batch in batches)
        return True

    def extend(self, columns: list[list]) -> None:
        """Append rows given as Python columns in schema order."""
        if self._pieces:
            self._pack()
        for column, values in zip(self._columns, columns):
            column.extend(values)
        for i, chars in self._text_columns:
            self._buffered_text += sum(chars(value) for value in columns[i] if value)
        if self._buffered_text >= ROW_GROUP_TEXT_BYTES:
            self._full()
        elif len(self._columns[0]) >= BATCH_ROWS:
            self._pack()
            if self._group_full():
                self._full()

    def append_batch(self, batch: pa.RecordBatch) -> None:
        """Append rows already packed as a batch of this part's schema, after any buffered rows."""
        self._pack()
        self._batches.append(batch)
        self._batched_rows += batch.num_rows
        self._batched_bytes += batch.nbytes
        if self._group_full():
            self._full()

    def append_pieces(self, pieces) -> None:
        """Append rows as ``Pieces`` (NumPy columns, say): made one Arrow batch with the pieces
        beside them (``type(pieces).batch(list)``) when ``BATCH_ROWS`` rows or ``ROW_GROUP_BYTES``
        are buffered, so that a table of small pages does not pay Arrow's price per page. A piece
        that large is made a batch alone: joining it to others would copy it."""
        if not pieces.rows:
            return
        if self._columns[0]:
            self._pack()
        nbytes = pieces.nbytes
        large = nbytes >= ROW_GROUP_BYTES
        if large and self._pieces:
            self._pack()
        self._pieces.append(pieces)
        self._piece_rows += pieces.rows
        self._piece_bytes += nbytes
        if large or self._piece_rows >= BATCH_ROWS or self._piece_bytes >= ROW_GROUP_BYTES:
            self._pack()
            if self._group_full():
                self._full()

    def _pack(self) -> None:
        """Turn the buffered Python rows, or pieces, into one Arrow batch."""
        if self._pieces:
            pieces, self._pieces, self._piece_rows, self._piece_bytes = self._pieces, [], 0, 0
            batch = type(pieces[0]).batch(pieces)
            self._batches.append(batch)
            self._batched_rows += batch.num_rows
            self._batched_bytes += batch.nbytes
        count = len(self._columns[0])
        if not count:
            return
        arrays = [pa.array(values, type=field.type) for values, field in zip(self._columns, self.schema)]
        batch = pa.RecordBatch.from_arrays(arrays, schema=self.schema)
        self._batches.append(batch)
        self._batched_rows += count
        self._batched_bytes += batch.nbytes
        self._columns = [[] for _ in self.schema]

    def flush(self) -> None:
        """Write everything buffered as one row group."""
        self._pack()
        if not self._batches:
            return
        table = pa.Table.from_batches(self._batches, schema=self.schema)
        try:
            self._writer.write_table(table, row_group_size=table.num_rows)
        except OSError as exc:
            raise output_error(exc, self.tmp_path) from exc
        self.rows += table.num_rows
        self._batches = []
        self._batched_rows = 0
        self._batched_bytes = 0
        self._buffered_text = 0
        self._due = False
        self._mark = 0

    def finish(self) -> None:
        """Write everything and make it durable under the temporary name."""
        try:
            self.flush()
            self._writer.close()
            self._file.flush()
            os.fsync(self._file.fileno())
            self._file.close()
        except OSError as exc:
            self.abort()
            raise output_error(exc, self.final_path) from exc

    def publish(self) -> str:
        """Move the finished file under its final name; returns that name."""
        try:
            os.replace(self.tmp_path, self.final_path)
        except OSError as exc:
            self.abort()
            raise output_error(exc, self.final_path) from exc
        return self.final_path

    def commit(self) -> str:
        """Finish the file and move it under its final name; returns that name."""
        self.finish()
        return self.publish()

    def abort(self) -> None:
        """Drop the temporary file; nothing appears under the final name."""
        try:
            self._writer.close()
        except Exception:  # noqa: BLE001 - the writer may be half-closed after an I/O error
            pass
        try:
            self._file.close()
        except OSError:
            pass
        _remove_quietly(self.tmp_path)


def write_manifest(out: str, manifest: dict, group_readable: bool = False) -> str:
    """Write ``OUT/_manifest.json`` atomically."""
    path = os.path.join(out, "_manifest.json")
    data = json.dumps(manifest, indent=2, sort_keys=False, default=str).encode("utf-8")
    write_atomically(path, data + b"\n", group_readable)
    return path


def read_manifest(out: str) -> dict | None:
    """The manifest an earlier run left in ``out``, or None."""
    try:
        with open(os.path.join(out, "_manifest.json"), "rb") as fh:
            return json.load(fh)
    except FileNotFoundError:
        return None


def mark_success(out: str, group_readable: bool = False) -> None:
    """Write ``OUT/_SUCCESS``: every unit committed."""
    write_atomically(os.path.join(out, "_SUCCESS"), b"", group_readable)


def clear_success(out: str) -> None:
    _remove_quietly(os.path.join(out, "_SUCCESS"))


def remove_temporaries(out: str, pid: int | None = None) -> int:
    """Delete the hidden temporary parts a killed run (or, with ``pid``, one dead worker) left
    behind; returns how many."""
    removed = 0
    mark = ".tmp-" if pid is None else f".tmp-{pid}"
    for root, _, files in os.walk(out):
        for name in files:
            if name.startswith(".") and (name.endswith(mark) if pid is not None else mark in name):
                _remove_quietly(os.path.join(root, name))
                removed += 1
    return removed


def publish_file(temporary: str, final: str) -> None:
    """Move a finished part under its final name."""
    try:
        os.replace(temporary, final)
    except OSError as exc:
        raise output_error(exc, final) from exc


def remove_tree(path: str) -> None:
    """Delete one of the run's own folders (``OUT/_staging``) and all in it, if it is there."""
    import shutil

    try:
        shutil.rmtree(path)
    except FileNotFoundError:
        pass
    except OSError as exc:
        raise output_error(exc, path) from exc
