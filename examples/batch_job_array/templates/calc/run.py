# One task of the job array: simulate a damped oscillator for one pset and
# write the final amplitude. The pset comes from pset.pk (prep_batch(...,
# write_pset=True)), so this script needs no placeholders at all.
import json
import math
import pickle

with open("pset.pk", "rb") as fd:
    pset = pickle.load(fd)

damping, omega, dt = pset["damping"], pset["omega"], 1e-3
x, v = 1.0, 0.0
for _ in range(int(pset["t_end"] / dt)):
    v += (-2.0 * damping * v - omega**2 * x) * dt
    x += v * dt

with open("result.json", "w") as fd:
    json.dump({"amplitude": math.hypot(x, v / omega)}, fd)
