"""The ``lepton`` command's CSV reader: same values as a plain csv-module parse, chunk by
chunk, and a peak memory near the size of the array it returns."""
import csv
import json
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest

from lepton.cli._data import DataError, read_csv, read_data, select

from _helpers import child_env


def reference(path):
    """header, {name: float64 array or list of stripped str}: the obvious whole-file parse."""
    with open(path, newline="", encoding="utf-8-sig") as f:
        rows = [r for r in csv.reader(f) if any(c.strip() for c in r)]
    header = [h.strip() for h in rows[0]]
    out = {}
    for j, h in enumerate(header):
        raw = [r[j].strip() for r in rows[1:]]
        try:
            out[h] = np.array([float(v) for v in raw])
        except ValueError:
            out[h] = raw
    return header, out


def assert_same(path, chunk_cells):
    table = read_csv(str(path), chunk_cells=chunk_cells)
    header, cols = reference(path)
    assert table.names == header and table.n_rows == len(next(iter(cols.values())))
    assert table.values.shape == (table.n_rows, len(header))
    assert table.values.flags.c_contiguous
    for h in header:
        got, want = table.columns[h], cols[h]
        if isinstance(want, list):
            assert got.dtype.kind == "U" and got.tolist() == want, h
            assert np.isnan(table.values[:, header.index(h)]).all()
        else:
            np.testing.assert_array_equal(got, want)
    return table


def write(path, text):
    path.write_bytes(text.encode("utf-8") if isinstance(text, str) else text)
    return path


@pytest.mark.parametrize("chunk_cells", [1, 7, 64, 1 << 16])
def test_matches_a_whole_file_parse(tmp_path, chunk_cells):
    rng = np.random.RandomState(0)
    lines = ["\ufeffa, b ,label,late,code"]  # BOM and padded names
    for i in range(300):
        late = f"{i * 0.5:.2f}0" if i < 250 else "n/a"  # numeric for 250 rows, then text
        lines.append(f"{rng.normal():.17g},  {i} ,{'xyz'[i % 3]},{late},\"{i:03d}\"")
        if i % 37 == 0:
            lines.append("")  # blank lines are skipped
            lines.append(" ,  , ,,")
    path = write(tmp_path / "mixed.csv", "\r\n".join(lines) + "\r\n")
    table = assert_same(path, chunk_cells)
    # A column that turns out to be text keeps the file's exact strings (read again).
    assert table.columns["late"][:2].tolist() == ["0.000", "0.500"]
    assert table.columns["code"].dtype.kind == "f" and table.columns["code"][7] == 7


@pytest.mark.parametrize("first", ["long", "short"])
def test_row_estimate_too_low_or_too_high(tmp_path, first):
    # The array is sized from the first chunk's row length: long first rows under-estimate
    # the row count (the array grows), short ones over-estimate it (the array is trimmed).
    long_row = ",".join(["1.2345678901234567"] * 4)
    short_row = ",".join(["1"] * 4)
    rows = [long_row] * 50 + [short_row] * 2000 if first == "long" else \
        [short_row] * 50 + [long_row] * 2000
    path = write(tmp_path / "rows.csv", "a,b,c,d\n" + "\n".join(rows) + "\n")
    table = assert_same(path, chunk_cells=40)
    assert table.n_rows == 2050


def test_special_values_and_quotes(tmp_path):
    path = write(tmp_path / "special.csv",
                 'x,y,"name, with comma"\nnan,1e308,"a, b"\n-inf,1_000,c\n 2 ,1e-320,d\n')
    table = assert_same(path, chunk_cells=3)
    assert table.columns["name, with comma"].tolist() == ["a, b", "c", "d"]
    assert table.columns["y"][1] == 1000.0


def test_errors_name_the_row_and_line(tmp_path):
    path = write(tmp_path / "ragged.csv", "a,b\n1,2\n\n3,4\n5\n")
    with pytest.raises(DataError, match=r"data row 3 \(line 5\) has 1 fields, but the header "
                                        "has 2"):
        read_csv(str(path), chunk_cells=2)
    for text, message in [("", "is empty"), ("\n \n", "is empty"),
                          ("a,b\n", "header but no data rows"),
                          ("a,a\n1,2\n", "appears twice"), ("a,\n1,2\n", "empty column")]:
        with pytest.raises(DataError, match=message):
            read_csv(str(write(tmp_path / "bad.csv", text)))


def test_select_copies_out_of_the_table(tmp_path):
    path = write(tmp_path / "t.csv", "a,b,c,label\n1,2,3,x\n4,5,6,y\n")
    table = read_data(str(path))
    X, y, names, target = select(table, None, features=["c", "a"])
    assert names == ["c", "a"] and target == "label"
    np.testing.assert_array_equal(X, [[3, 1], [6, 4]])
    assert X.flags.c_contiguous and not np.shares_memory(X, table.values)
    X, y, names, target = select(table, "b", features=["a", "c"])
    # y is a copy: a view would keep the whole file's array alive.
    assert y.tolist() == [2, 5] and not np.shares_memory(y, table.values)


_CHILD = textwrap.dedent("""
    import json, resource, sys
    import numpy as np
    from lepton.cli._data import read_csv
    scale = 1 if sys.platform == "darwin" else 1024  # ru_maxrss: bytes on macOS, else KiB
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * scale
    table = read_csv(sys.argv[1])
    after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * scale
    text = sum(c.nbytes for c in table.columns.values() if c.dtype.kind == "U")
    print(json.dumps({"increase": after - before, "nbytes": table.values.nbytes,
                      "text": int(text), "rows": table.n_rows}))
""")


@pytest.mark.skipif(not sys.platform.startswith(("linux", "darwin")),
                    reason="needs resource.getrusage's ru_maxrss")
@pytest.mark.slow
def test_peak_memory_is_near_the_array_size(tmp_path):
    # ~24 MB of CSV: 120,000 rows of 20 numbers and a class label.
    rng = np.random.RandomState(0)
    n, m = 120_000, 20
    path = tmp_path / "big.csv"
    block = 10_000  # one formatted block, written n // block times: fast to make
    X = rng.standard_normal((block, m)).astype("U10")
    labels = np.array(["cat", "dog", "eel"])[rng.randint(0, 3, block)]
    text = "".join(",".join(row) + f",{label}\n" for row, label in zip(X.tolist(), labels))
    with open(path, "w") as f:
        f.write(",".join(f"f{j}" for j in range(m)) + ",label\n")
        for _ in range(n // block):
            f.write(text)
    assert os.path.getsize(path) > 20e6
    proc = subprocess.run([sys.executable, "-c", _CHILD, str(path)], capture_output=True,
                          text=True, env=child_env(), timeout=300)
    assert proc.returncode == 0, proc.stderr
    result = json.loads(proc.stdout)
    assert result["rows"] == n and result["nbytes"] == n * (m + 1) * 8
    final = result["nbytes"] + result["text"]
    # Rows held as Python lists took ~10x; the incremental reader stays under 3x (the
    # array, at most half again for growth, one chunk of strings) plus a constant.
    assert result["increase"] < 3 * final + 16 * 2 ** 20, result
