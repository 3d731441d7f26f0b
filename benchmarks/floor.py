"""Floor experiment: what only building, or only visiting, the model costs (no bytes).

``python benchmarks/floor.py [STEP]`` on every STEP-th pyc (default 3) of the corpus
bench.py builds: rebuilds each loaded model with the constructors the reader calls (no
parsing) and visits each model reading what the writer must read (no output), each as
a ratio to C marshal.loads / marshal.dumps of the same files, beside pycfile's own
pure-Python loads and dumps (the C accelerator is switched off here: these are the
floors of the pure-Python reader and writer).  The garbage collector is on, as in
``bench.py`` (``GC_OFF=1`` turns it off).
"""
import gc
import marshal
import os
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pycfile  # noqa: E402
from bench import build_corpus, pyc_paths  # noqa: E402
from pycfile import Bytes, Code, Int, Str, TupleValue  # noqa: E402
from pycfile._header import read_header_bytes  # noqa: E402
from pycfile import _accel  # noqa: E402

_accel.ENABLED = False

step = int(sys.argv[1]) if len(sys.argv) > 1 else 3
ps = pyc_paths(build_corpus(os.path.join(tempfile.gettempdir(), "pycfile-bench")))[::step]
datas = [open(p,'rb').read() for p in ps]
bodies=[d[16:] for d in datas]; codes=[marshal.loads(b) for b in bodies]
models=[pycfile.loads(d).code for d in datas]
fields = {}
def build(v, memo):
    # construct an equal model with the same constructors the reader calls (refs reused)
    k = id(v)
    if k in memo: return memo[k]
    cls = type(v)
    if cls is TupleValue or cls is pycfile.ListValue or cls is pycfile.SetValue or cls is pycfile.FrozenSetValue:
        o = cls([build(x, memo) for x in v.items], v.code, v.flag_ref)
    elif isinstance(v, Code):
        f = fields.get(cls)
        if f is None:
            f = fields[cls] = [a.name for a in cls.__attrs_attrs__ if a.name != 'flag_ref']
        o = cls(*[build(getattr(v, n), memo) if not isinstance(getattr(v, n), int) else getattr(v, n) for n in f], flag_ref=v.flag_ref)
    elif cls is pycfile.Singleton:
        return v
    elif cls in (Str, Bytes, Int):
        o = cls(v.value, v.code, v.flag_ref)
    else:
        o = v
    if v.flag_ref: memo[k] = o
    return o
def visit(v, memo):
    # touch what the writer must read, no output
    if v.flag_ref:
        if id(v) in memo: return
        memo[id(v)] = len(memo)
    cls = type(v)
    if cls is TupleValue:
        for x in v.items: visit(x, memo)
    elif isinstance(v, Code):
        for n in fields[cls]:
            x = getattr(v, n)
            if not isinstance(x, int): visit(x, memo)
    elif cls is Str or cls is Bytes or cls is Int:
        v.code; v.value
# the garbage collector stays on, as in bench.py; GC_OFF=1 in the environment turns it off
if os.environ.get("GC_OFF"):
    gc.disable()
def T(f):
    t=time.process_time(); f(); return time.process_time()-t
R=[]
for _ in range(5):
    a=T(lambda: [marshal.loads(b) for b in bodies]); b=T(lambda: [build(m, {}) for m in models]); c=T(lambda: [pycfile.loads(d) for d in datas])
    d=T(lambda: [marshal.dumps(x) for x in codes]); e=T(lambda: [visit(m, {}) for m in models]); f=T(lambda: [pycfile.dumps(pycfile.PycFile(read_header_bytes(dd), m)) for dd, m in zip(datas, models)])
    R.append((b/a, c/a, e/d, f/d))
R.sort()
print(len(ps), "files; median: build-only %.1fx, pycfile.loads %.1fx of C loads | visit-only %.1fx, pycfile.dumps %.1fx of C dumps" % R[len(R)//2])
