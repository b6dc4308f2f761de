"""Template files: filling, encodings, links, placeholders, on real files."""

from __future__ import annotations

import os
import pickle
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import pytest

import psweep as ps
from batch_trees import TIMEOUT, make_templates, submit_lines


# -- rendering -------------------------------------------------------------------


def test_jinja_fills_pset_and_bookkeeping_keys(tmp_path):
    """Every calc template, subfolders included, is filled with the pset and its bookkeeping keys."""
    kw = make_templates(tmp_path / "t", calc={
        "input.txt": "a={{a}} b={{ b }} id={{_pset_id}} seq={{_pset_seq}}\n",
        "sub/deep.txt": "{{a * 10}}\n",
    })
    df = ps.prep_batch(ps.pgrid(ps.plist("a", [1, 2]), ps.plist("b", ["x"])), **kw)
    assert len(df) == 2
    for _, row in df.iterrows():
        folder = Path("calc", row["_pset_id"])
        assert (folder / "input.txt").read_text() == (
            f"a={row['a']} b=x id={row['_pset_id']} seq={row['_pset_seq']}\n")
        assert (folder / "sub" / "deep.txt").read_text() == f"{row['a'] * 10}\n"
        assert (folder / "jobscript_local").read_text() == "sh run.sh\n"


def test_dollar_mode_fills_dollar_placeholders_only(tmp_path):
    """template_mode='dollar' replaces $name and ${name}, turns $$ into $, and leaves {{...}} alone."""
    kw = make_templates(tmp_path / "t", calc={"job.sh": "echo $a ${a}x $$HOME {{a}}\n"},
                        machines={"local": ("subcmd: sh\n", "echo $$(hostname) $_pset_seq\n")})
    df = ps.prep_batch(ps.plist("a", [7]), template_mode="dollar", **kw)
    folder = Path("calc", df["_pset_id"].iloc[0])
    assert (folder / "job.sh").read_text() == "echo 7 7x $HOME {{a}}\n"
    assert (folder / "jobscript_local").read_text() == f"echo $(hostname) {df['_pset_seq'].iloc[0]}\n"


def test_template_file_mode_is_kept(tmp_path):
    """An executable template gives an executable file in each pset folder."""
    kw = make_templates(tmp_path / "t", calc={"run.sh": "#!/bin/sh\necho {{a}}\n"})
    os.chmod(tmp_path / "t" / "calc" / "run.sh", 0o755)
    df = ps.prep_batch(ps.plist("a", [1]), **kw)
    mode = os.stat(Path("calc", df["_pset_id"].iloc[0], "run.sh")).st_mode
    assert mode & stat.S_IXUSR


@pytest.mark.parametrize("mode,text,key", [
    ("jinja", "x = {{a}}\ny = {{missing_key}}\n", "missing_key"),
    ("dollar", "x = $a\ny = $missing_key\n", "missing_key"),
])
def test_unfilled_placeholder_names_file_and_key_and_writes_nothing(tmp_path, mode, text, key):
    """A placeholder one pset does not fill is a TemplateError naming file, key and pset; nothing is written."""
    kw = make_templates(tmp_path / "t", calc={"input.txt": text})
    params = [{"a": 1, "missing_key": 5}, {"a": 2, "missing_key": 6}, {"a": 3}]
    with pytest.raises(ps.TemplateError) as info:
        ps.prep_batch(params, template_mode=mode, **kw)
    msg = str(info.value)
    assert str(tmp_path / "t" / "calc" / "input.txt") in msg
    assert key in msg and "pset #2" in msg
    assert not Path("calc").exists()


def test_unfilled_placeholder_leaves_existing_study_as_it_was(tmp_path):
    """A failing second prep_batch adds no row, no pset folder and no submit line."""
    kw = make_templates(tmp_path / "t", calc={"input.txt": "{{a}} {{b}}\n"})
    ps.prep_batch(ps.pgrid(ps.plist("a", [1, 2]), ps.plist("b", [0])), **kw)
    before = sorted(os.listdir("calc"))
    script = Path("calc/run_local.sh").read_text()
    with pytest.raises(ps.TemplateError, match="'b'"):
        ps.prep_batch([{"a": 3, "b": 1}, {"a": 4}], **kw)
    assert sorted(os.listdir("calc")) == before
    assert len(ps.df_read("calc/results.pk")) == 2
    assert Path("calc/run_local.sh").read_text() == script


def test_jinja_syntax_error_names_file_and_line(tmp_path):
    """A jinja syntax error names the template and the line, before anything is written."""
    kw = make_templates(tmp_path / "t", calc={"input.txt": "ok\n{% if %}\n"})
    with pytest.raises(ps.TemplateError, match=r"input\.txt.*line 2"):
        ps.prep_batch(ps.plist("a", [1]), **kw)
    assert not Path("calc").exists()


def test_pset_failing_in_the_run_is_recorded_and_gets_no_submit_line(tmp_path):
    """A template that fails only with a pset's real bookkeeping values fails that pset only."""
    # The check before the run fills _pset_seq with 0; the run's pset #1 divides by zero.
    kw = make_templates(tmp_path / "t", calc={"in.txt": "{{ 10 // (_pset_seq - 1) }}\n"})
    with pytest.warns(UserWarning, match="1 of 3 psets failed"):
        df = ps.prep_batch(ps.plist("a", [1, 2, 3]), **kw)
    failed = df[df["_failed"]]
    assert failed["_pset_seq"].tolist() == [1]
    assert "ZeroDivisionError" in failed["_exc_txt"].iloc[0] and "in.txt" in failed["_exc_txt"].iloc[0]
    assert not Path("calc", failed["_pset_id"].iloc[0]).exists()
    active, _ = submit_lines(Path("calc/run_local.sh"))
    assert [line.split("pset_seq=")[1] for line in active] == ["0", "2"]


def test_binary_template_is_copied_unchanged(tmp_path):
    """A binary file among the templates (NUL bytes, not UTF-8) is copied byte for byte."""
    blob = b"\x89PNG\r\n\x1a\n\x00\xff{{a}}$a\xfe\x00"
    kw = make_templates(tmp_path / "t", calc={"image.png": blob, "input.txt": "{{a}}\n"})
    for mode in ("jinja", "dollar"):
        df = ps.prep_batch(ps.plist("a", [1]), template_mode=mode, **kw)
        folder = Path("calc", df["_pset_id"].iloc[-1])
        assert (folder / "image.png").read_bytes() == blob
    assert ps.FileTemplate(tmp_path / "t" / "calc" / "image.png").is_binary


def test_clashing_target_names_are_an_error(tmp_path):
    """A calc template named like a job script (or pset.pk with write_pset) is refused before writing."""
    kw = make_templates(tmp_path / "t", calc={"jobscript_local": "x\n", "pset.pk": "y\n"})
    with pytest.raises(ps.TemplateError, match="jobscript_local"):
        ps.prep_batch(ps.plist("a", [1]), **kw)
    shutil.rmtree(tmp_path / "t")
    kw = make_templates(tmp_path / "t", calc={"pset.pk": "y\n"})
    with pytest.raises(ps.TemplateError, match="pset.pk"):
        ps.prep_batch(ps.plist("a", [1]), write_pset=True, **kw)
    assert not Path("calc").exists()


# -- templates: links, encodings, code, names (issue 20, item 9) -------------------


def test_symlinked_folder_in_calc_templates_is_copied_into_each_pset_folder(tmp_path):
    """A linked folder in templates/calc (data kept outside) lands in every pset folder, text filled."""
    data = tmp_path / "shared" / "data"
    (data / "deep").mkdir(parents=True)
    (data / "table.txt").write_text("a = {{a}}\n")
    (data / "deep" / "blob.bin").write_bytes(b"\x00\x01{{a}}")
    kw = make_templates(tmp_path / "t", calc={"run.sh": "echo {{a}}\n"})
    os.symlink(data, tmp_path / "t" / "calc" / "data")
    os.symlink(data / "table.txt", tmp_path / "t" / "calc" / "linked.txt")
    df = ps.prep_batch(ps.plist("a", [1, 2]), **kw)
    for pset_id, a in zip(df["_pset_id"], df["a"]):
        folder = Path("calc", pset_id)
        assert (folder / "data" / "table.txt").read_text() == f"a = {a}\n"
        assert (folder / "linked.txt").read_text() == f"a = {a}\n"
        assert (folder / "data" / "deep" / "blob.bin").read_bytes() == b"\x00\x01{{a}}"
        assert not (folder / "data").is_symlink()


@pytest.mark.parametrize("target", [".", "..", "/"])
def test_symlink_loop_in_calc_templates_is_refused_naming_it(tmp_path, target):
    """A link in templates/calc to a folder that holds it is a TemplateError naming it; nothing written."""
    kw = make_templates(tmp_path / "t")
    (tmp_path / "t" / "calc" / "sub").mkdir()
    os.symlink(target, tmp_path / "t" / "calc" / "sub" / "loop")
    with pytest.raises(ps.TemplateError, match=r"sub/loop.*holds it"):
        ps.prep_batch(ps.plist("a", [1]), **kw)
    assert not Path("calc").exists()


def test_dangling_symlink_in_calc_templates_is_refused_naming_it(tmp_path):
    """A link in templates/calc that points nowhere is a TemplateError naming it, before anything is written."""
    kw = make_templates(tmp_path / "t")
    os.symlink(tmp_path / "gone", tmp_path / "t" / "calc" / "input")
    with pytest.raises(ps.TemplateError, match=r"calc/input.*does not exist"):
        ps.prep_batch(ps.plist("a", [1]), **kw)
    assert not Path("calc").exists()


@pytest.mark.parametrize("mode,text", [("jinja", "T = {{T}} °C, {{name}}\n"), ("dollar", "T = $T °C, $name\n")])
def test_latin1_template_is_filled_and_written_in_latin1(tmp_path, mode, text):
    """A latin-1 text template gets its placeholders filled and is written back in latin-1."""
    kw = make_templates(tmp_path / "t", calc={"input.dat": text.encode("latin-1")})
    df = ps.prep_batch([{"T": 300, "name": "Müller"}], template_mode=mode, **kw)
    written = Path("calc", df["_pset_id"].iloc[0], "input.dat").read_bytes()
    assert written == "T = 300 °C, Müller\n".encode("latin-1")


def test_latin1_template_with_a_value_latin1_cannot_hold_is_an_error(tmp_path):
    """A value latin-1 cannot hold, for a latin-1 template, is a TemplateError naming the file and the fix."""
    kw = make_templates(tmp_path / "t", calc={"input.dat": "cost {{c}} °C\n".encode("latin-1")})
    with pytest.raises(ps.TemplateError, match=r"input\.dat.*latin-1.*'€'.*UTF-8"):
        ps.prep_batch([{"c": "5 €"}], **kw)
    assert not Path("calc").exists()


def test_utf16_template_is_filled_and_keeps_its_encoding(tmp_path):
    """A UTF-16 template (with its byte order mark) is filled and written back as UTF-16."""
    text = "\ufeffn = {{n}}\r\n"
    kw = make_templates(tmp_path / "t", calc={"in.txt": text.encode("utf-16-le")})
    df = ps.prep_batch(ps.plist("n", [7]), **kw)
    written = Path("calc", df["_pset_id"].iloc[0], "in.txt").read_bytes()
    assert written == "\ufeffn = 7\r\n".encode("utf-16-le")


def test_crlf_template_keeps_its_line_ends(tmp_path):
    """A template with Windows line ends (CRLF) is filled keeping them, in jinja and dollar mode."""
    kw = make_templates(tmp_path / "t", calc={"job.bat": b"echo {{a}} $a\r\nexit\r\n"})
    for mode in ("jinja", "dollar"):
        df = ps.prep_batch(ps.plist("a", [5]), template_mode=mode, **kw)
        written = Path("calc", df["_pset_id"].iloc[-1], "job.bat").read_bytes()
        assert written == (b"echo 5 $a\r\nexit\r\n" if mode == "jinja" else b"echo {{a}} 5\r\nexit\r\n")


def test_text_encoding_tells_text_from_binary():
    """UTF-8, UTF-16 with BOM and 8-bit text are text; NULs or control bytes make binary."""
    from psweep.batch._templates import text_encoding

    assert text_encoding(b"a = {{a}}\n") == "utf-8"
    assert text_encoding("é {{a}}".encode("cp1252")) == "latin-1"
    assert text_encoding("€ {{a}}".encode("cp1252")) == "latin-1"
    assert text_encoding("x".encode("utf-16")) in ("utf-16-le", "utf-16-be")
    assert text_encoding(b"\xff\xfe{{a}}\x00\x01\x00") is None  # UTF-16 of a control character
    assert text_encoding(b"{{a}}\x00") is None
    assert text_encoding(b"\xe9{{a}}\x02\x03") is None


def test_same_code_reprepares_psets_after_a_template_changed(tmp_path):
    """skip_dups='same-code' counts an edited calc template or job script as changed code."""
    kw = make_templates(tmp_path / "t", calc={"in.txt": "{{a}}\n"})
    params = ps.plist("a", [1, 2])
    ps.prep_batch(params, **kw)
    assert len(ps.prep_batch(params, skip_dups="same-code", **kw)) == 2
    (tmp_path / "t" / "calc" / "in.txt").write_text("{{a}} v2\n")
    df = ps.prep_batch(params, skip_dups="same-code", **kw)
    assert len(df) == 4
    assert [Path("calc", i, "in.txt").read_text() for i in df["_pset_id"].iloc[2:]] == ["1 v2\n", "2 v2\n"]
    assert len(ps.prep_batch(params, skip_dups="same-code", **kw)) == 4
    (tmp_path / "t" / "machines" / "local" / "jobscript").write_text("sh run.sh # v2\n")
    assert len(ps.prep_batch(params, skip_dups="same-code", **kw)) == 6


# -- unfilled placeholders are KeyErrors too, as in 0.16 (issue 20, item 24) ------------------


PICKLE_ROUND_TRIP = """
import pickle, sys
exc = pickle.loads(sys.stdin.buffer.read())
print(type(exc).__name__, isinstance(exc, KeyError), str(exc)[:9])
"""


@pytest.mark.parametrize("mode,text", [("dollar", " $foo $abc"), ("jinja", " {{foo}} {{abc}}")])
def test_unfilled_placeholder_is_a_key_error_with_a_plain_message(tmp_path, mode, text):
    """An unfilled placeholder is a TemplateError, a ValueError and a KeyError; str() is unquoted; it pickles."""
    path = tmp_path / "tmpl.txt"
    path.write_text(text)
    with pytest.raises(KeyError) as info:
        ps.FileTemplate(path).fill({"foo": "x"}, mode=mode)
    exc = info.value
    assert isinstance(exc, ps.TemplateError) and isinstance(exc, ValueError)
    assert isinstance(exc, ps.TemplatePlaceholderError)
    assert str(exc).startswith("template ") and "abc" in str(exc)
    if mode == "jinja":
        import jinja2

        assert isinstance(exc, jinja2.exceptions.UndefinedError)
    proc = subprocess.run([sys.executable, "-c", PICKLE_ROUND_TRIP], input=pickle.dumps(exc),
                          capture_output=True, timeout=TIMEOUT)
    assert proc.returncode == 0, proc.stderr
    name, is_key_error, head = proc.stdout.decode().split(maxsplit=2)
    assert (name, is_key_error, head.strip()) == (type(exc).__name__, "True", "template")


def test_prep_batch_unfilled_placeholder_is_caught_by_except_key_error(tmp_path):
    """prep_batch's error for an unfilled placeholder (naming the pset) is caught by 0.16's 'except KeyError:'."""
    kw = make_templates(tmp_path / "t", calc={"in.txt": "{{a}} {{b}}\n"})
    try:
        ps.prep_batch(ps.plist("a", [1]), **kw)
    except KeyError as exc:
        assert "pset #0" in str(exc) and "'b'" in str(exc) and not str(exc).startswith('"')
    else:
        raise AssertionError("no KeyError")
