"""Fix a bug in a study's function, then re-run only what the old code made.

Every run records a hash of its function's code. When ``skip_dups=True``
would reuse rows that other code made, psweep warns once with the count;
``skip_dups="same-code"`` runs those psets again with the new code (the old
rows stay in the database, told apart by ``_run_id``).

In real life you would edit the function in your script and run it again;
here both versions are in one script.

Run: python changed_code_same_code.py
"""

import warnings

import psweep as ps

params = ps.plist("n", [1, 2, 3, 4])


def area(pset):
    """Area of a square of side n (first version: a bug)."""
    return {"area_": pset["n"] * 2}


ps.run(area, params, calc_dir="calc")


def area(pset):  # noqa: F811 -- the bug fixed
    """Area of a square of side n."""
    return {"area_": pset["n"] ** 2}


# skip_dups=True reuses the old rows, and says that other code made them.
with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    df = ps.run(area, params + ps.plist("n", [5]), calc_dir="calc", skip_dups=True)
for warning in caught:
    print("warning:", warning.message)
print(f"{len(df)} rows; only n=5 ran with the new code")

# skip_dups="same-code" runs again every pset that no run of this code made.
df = ps.run(area, params + ps.plist("n", [5]), calc_dir="calc", skip_dups="same-code")
latest = df[df._run_id == df._run_id.iloc[-1]]
print("re-ran n =", latest["n"].tolist(), "-> area_ =", latest["area_"].tolist())
