"""The runner of the docs' code blocks (tests/docs/pages.py) keeps the
conventions: which blocks run, which output it checks, what it refuses."""

from __future__ import annotations

import os
import sys

import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import pages  # noqa: E402

PAGE = """# A page

```python
x = 2
print(x * 21)
```

```text
42
```

<!-- no-run: a server that runs until Ctrl-C -->
```bash
sleep 1000
```

```bash
echo "run $PWD"
```

Some text, then an illustration, not an output:

```text
calc/results.pk
```
"""


def test_parse_finds_blocks_outputs_and_no_runs():
    """Python and bash blocks in order; a text block right after one is its
    output, one after prose is not; a no-run reason is kept."""
    blocks = pages.parse(PAGE)
    assert [(b.lang, b.skip) for b in blocks] == [
        ("python", None), ("bash", "a server that runs until Ctrl-C"), ("bash", None)
    ]
    assert blocks[0].expected == "42\n"
    assert blocks[2].expected is None


@pytest.mark.parametrize("text,message", [
    ("<!-- no-run: -->\n```bash\nls\n```\n", "needs a reason"),
    ("```sh\nls\n```\n", "is not run"),
    ("```python\nx = 1\n", "never closed"),
])
def test_parse_refuses_blocks_that_would_go_unchecked(text, message):
    """A no-run without a reason, a shell block in another language, an open fence: each an error."""
    with pytest.raises(pages.PageError, match=message):
        pages.parse(text)


def test_output_is_compared_after_normalising_ids_times_and_the_folder(tmp_path):
    """UUIDs, times and the page's folder may differ; anything else must match (with ... and spacing)."""
    folder = str(tmp_path)
    got = (f"run 0b6f5c1e-0d1a-4d43-9f6e-2a5b6a1f9c3e at 2026-12-01 09:12:03.5 "
           f"in {folder}/calc_2026-12-01T09:12:03Z\n")
    shown = "run 7d2e8a90-4c5b-4f1e-8a53-0c8f7b1e2d6a at 2025-01-02T10:00:00Z in <folder>/calc_<time>\n"
    assert not pages.output_differs(shown, got, folder)
    assert not pages.output_differs("run ... in   <folder>/calc_...\n", got, folder)
    assert pages.output_differs(shown.replace("calc", "calc2"), got, folder)


def test_run_page_reports_a_wrong_output_and_a_failing_block(tmp_path):
    """A block whose output differs from the page's, or that raises, fails the page, naming its line."""
    page = tmp_path / "page.md"
    page.write_text("```python\nprint(1)\n```\n\n```text\n2\n```\n")
    folder = tmp_path / "run"
    folder.mkdir()
    cwd = os.getcwd()
    try:
        problem = pages.run_page(str(page), str(folder))
        assert problem and "page.md:1" in problem and "output differs" in problem
        page.write_text("```bash\necho ok\nfalse\necho never\n```\n")
        problem = pages.run_page(str(page), str(folder))
        assert problem and "failed" in problem and "never" not in problem.split("--- output:")[1]
    finally:
        os.chdir(cwd)
