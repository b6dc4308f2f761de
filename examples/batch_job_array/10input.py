"""A study of 200 psets as one SLURM job array instead of 200 jobs.

``python 10input.py`` writes ``calc/<_pset_id>/`` for every pset (run.py,
pset.pk, jobscript_cluster), the array's folder list
``calc/array_cluster_run0.txt`` and job script ``calc/array_cluster_run0.sh``,
and ``calc/run_cluster.sh``. On the cluster (copy calc/ there, e.g. with
rsync), ``sh calc/run_cluster.sh`` runs one command::

    sbatch --array=0-199%50 array_cluster_run0.sh

Task k of the array runs ``jobscript_cluster`` in the folder on line k+1 of
the list. Copy calc/ back and run ``python 20eval.py``. Running this script
again with more psets adds a second array (``array_cluster_run1.*``) and
comments out the first one's line in run_cluster.sh.
"""

import psweep as ps

if __name__ == "__main__":
    params = ps.pgrid(
        ps.plist("damping", [0.01 * i for i in range(20)]),
        ps.plist("omega", [1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0, 10.0]),
        ps.plist("t_end", [5.0]),
    )
    df = ps.prep_batch(params, write_pset=True)
    with open("calc/run_cluster.sh") as fd:
        print(fd.read())
