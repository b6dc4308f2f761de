# One job of the study, written by psweep.prep_batch into calc/<_pset_id>/.
# prep_batch replaced the placeholders in double curly braces with the values
# of this job's pset; everything else is copied as it is.
import json
import random

n_samples = {{n_samples}}
seed = {{seed}}

rng = random.Random(seed)
inside = sum(1 for _ in range(n_samples) if rng.random() ** 2 + rng.random() ** 2 < 1.0)
estimate = 4.0 * inside / n_samples

with open("result.json", "w") as fd:
    json.dump({"pi_estimate": estimate, "pset_id": "{{_pset_id}}"}, fd)
print(f"n_samples={n_samples} seed={seed}: pi is about {estimate:.5f}")
